"""The rows every clinic starts with (role groups, reminder rules, preparation texts, protocols, clinic hours, consent
documents), seeded by one service.

Each app owns a `reference_data.py` whose `seed(apps)` writes its rows through a Django app registry: the historical
one inside a migration, `django.apps.apps` at run time. The app registers that function in its AppConfig.ready(), so
this module imports no app. `seed_reference_data()` runs every registered seeder in app order; migrations, the
`seed_demo` command and the tests call it (or the app's own seeder). Seeders only add what is missing: running them
again changes nothing, and never overwrites a row the clinic has edited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps as running_apps

Seeder = Callable[[Any], None]

_seeders: list[Seeder] = []


def register(seed_fn: Seeder) -> Seeder:
    """Add an app's seeder; called from its AppConfig.ready(), so seeders run in INSTALLED_APPS order."""
    if seed_fn not in _seeders:
        _seeders.append(seed_fn)
    return seed_fn


def seeders() -> tuple[Seeder, ...]:
    return tuple(_seeders)


def seed_reference_data(apps=None) -> None:
    """Every app's reference rows, added where missing. `apps`: a Django app registry (default: the running one)."""
    for seed_fn in _seeders:
        seed_fn(apps or running_apps)


def known_fields(model, values: dict[str, Any], *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """`values` restricted to the fields `model` has: a historical model in an early migration lacks later fields."""
    names = {field.name for field in model._meta.get_fields()} - set(skip)
    return {name: value for name, value in values.items() if name in names}


def reword(apps, model: str, field: str, *, old: str, new: str) -> int:
    """Replace a sentence of a seeded wording in every row whose `field` still holds it (a text the clinic rewrote
    without it stays as it is); `model` is "app_label.Model". Returns how many rows changed. For the migrations that
    bring an installed clinic's texts in line with a changed default."""
    Model = apps.get_model(model)
    changed = 0
    for row in Model.objects.filter(**{f"{field}__contains": old}):
        setattr(row, field, getattr(row, field).replace(old, new))
        row.save(update_fields=[field])
        changed += 1
    return changed
