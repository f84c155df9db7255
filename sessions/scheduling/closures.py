"""The public holidays of the clinic's country and region, and closing the clinic on them."""

from datetime import date

import holidays
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.clinic.models import ClinicSettings

from ..models import ClinicClosure


def public_holidays(*, year: int, country: str, subdivision: str = "") -> dict[date, str]:
    """The public holidays of a year in the clinic's country (and state or region), by day, with their names."""
    days = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return {day: "; ".join(days.get_list(day)) for day in sorted(days)}


@transaction.atomic
def closures_import_public_holidays(*, year: int, by: User | None) -> list[ClinicClosure]:
    """Close the clinic on each public holiday of `year` in the country and region set in the clinic settings.

    Runs again without adding anything twice: a day already closed keeps its closure and reason. `by` is the admin
    who asked (None from the command line and the demo). Returns the closures created.
    """
    if by is not None and not by.has_role(Role.ADMIN):
        raise PermissionDenied("Only an admin can change the clinic's closures.")
    clinic = ClinicSettings.load()
    try:
        days = public_holidays(year=year, country=clinic.holiday_country, subdivision=clinic.holiday_subdivision)
    except NotImplementedError as exc:
        raise ValidationError(
            "The public holidays of the country or region in the clinic settings are not known."
        ) from exc
    closed = set(ClinicClosure.objects.filter(day__year=year).values_list("day", flat=True))
    created = [
        ClinicClosure.objects.create(day=day, reason=name[: ClinicClosure._meta.get_field("reason").max_length])
        for day, name in days.items()
        if day not in closed
    ]
    return created
