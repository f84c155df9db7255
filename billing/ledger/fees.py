"""The fee schedule: the price of a code for a route and a length of service."""

from django.db.models import Q

from ..ledger_models import FeeScheduleItem


def fee_lookup(code: str, *, route: str = "", minutes: int | None = None) -> FeeScheduleItem | None:
    """The active price for this code: one set for the route before one for any route, and, where prices depend on
    the length of the service, the one whose minutes include `minutes`."""
    rows = FeeScheduleItem.objects.filter(code=code, is_active=True).filter(Q(route=route) | Q(route=""))
    if minutes is not None:
        rows = rows.filter(Q(min_minutes__isnull=True) | Q(min_minutes__lte=minutes)).filter(
            Q(max_minutes__isnull=True) | Q(max_minutes__gte=minutes)
        )
    # The route's own price first (a blank route sorts first, so put it last).
    return sorted(rows, key=lambda item: (item.route == "", item.min_minutes or 0))[0] if rows else None


def fee_schedule(*, active_only: bool = False):
    rows = FeeScheduleItem.objects.all()
    return rows.filter(is_active=True) if active_only else rows
