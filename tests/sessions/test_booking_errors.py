"""What a booking that lost a race is told (the races themselves run on PostgreSQL in test_booking_races.py)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError

from sessions.scheduling.booking import RACE_LOST, booking_race_lost_as_validation_error


class DriverError(Exception):
    def __init__(self, pgcode):
        super().__init__(pgcode)
        self.pgcode = pgcode


def raise_from_driver(error_class, pgcode):
    try:
        raise DriverError(pgcode)
    except DriverError as cause:
        raise error_class("from the database") from cause


@pytest.mark.parametrize(("error_class", "pgcode"), [(IntegrityError, "23P01"), (OperationalError, "40P01")])
def test_a_refused_or_deadlocked_insert_is_a_lost_race(error_class, pgcode):
    with pytest.raises(ValidationError) as lost, booking_race_lost_as_validation_error():
        raise_from_driver(error_class, pgcode)
    assert lost.value.messages == [RACE_LOST]


def test_other_database_failures_are_not_hidden():
    with pytest.raises(OperationalError), booking_race_lost_as_validation_error():
        raise_from_driver(OperationalError, "57P01")  # the server shut down
