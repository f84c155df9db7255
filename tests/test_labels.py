"""The list rows' quick date labels read exactly as Django's date format writes them, in the clinic's time."""

from datetime import UTC, datetime

from django.utils import dateformat, timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from kap_clinic.kernel.labels import day_label, day_time_label

moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)


@settings(deadline=None)
@given(moment=moments)
def test_the_labels_read_as_djangos_date_format(moment):
    local = timezone.localtime(moment)
    assert day_label(moment) == dateformat.format(local, "D j M")
    assert day_time_label(moment) == dateformat.format(local, "D j M Y H:i")


def test_a_worked_example_in_the_clinics_time(settings):
    settings.TIME_ZONE = "America/New_York"
    moment = datetime(2026, 12, 2, 19, 5, tzinfo=UTC)
    assert day_label(moment) == "Wed 2 Dec"
    assert day_time_label(moment) == "Wed 2 Dec 2026 14:05"
