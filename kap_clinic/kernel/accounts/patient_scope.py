"""Which patients a user may see, as a condition on a related patient, for kernel pages that list patient rows
(reminders, staff alerts).

The rule belongs to the patients app, which registers it when it is ready; the kernel only applies it. Until it is
registered nothing is visible.
"""

from collections.abc import Callable

from django.db.models import Q

Rule = Callable[..., Q]

_registered: list[Rule] = []


def register(rule: Rule) -> None:
    """`rule(user, path)` is a condition on the patient reached through `path` that holds for the rows `user` may
    see."""
    _registered[:] = [rule]


def visible_through(user, path: str = "patient") -> Q:
    if not _registered:
        return Q(pk__in=[])
    return _registered[0](user, path)
