"""Reproducible installs: requirements.lock pins every dependency exactly, within pyproject.toml's ranges, and both
`make install` and the Dockerfile install from it. A failure here after adding a dependency: run `make lock`."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;#]+)$")


def locked() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"not an exact pin: {line!r}"
        pins[canonicalize_name(match.group(1))] = Version(match.group(2))
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [req for reqs in project.get("optional-dependencies", {}).values() for req in reqs]
    return [Requirement(req) for req in [*project["dependencies"], *extras]]


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {requirement.name}=={pins[name]}, outside {requirement.specifier}: run `make lock`"
        )
        for extra in requirement.extras:  # django-axes[ipware] brings django-ipware
            assert extra != "ipware" or "django-ipware" in pins


def test_floors_stay_above_known_advisories():
    """Django's latest 5.2 security release, and indirect dependencies with published fixes."""
    pins = locked()
    floors = {"django": "5.2.19", "sqlparse": "0.5.0", "pillow": "11.3", "fonttools": "4.60.2", "weasyprint": "68"}
    for name, floor in floors.items():
        assert pins[name] >= Version(floor), f"{name} {pins[name]} is below {floor}"
    by_name = {canonicalize_name(r.name): r for r in declared()}
    for name, floor in floors.items():
        assert not by_name[name].specifier.contains(Version(_below(floor))), f"{name} floor too low"


def _below(version: str) -> str:
    parts = [int(p) for p in version.split(".")]
    parts[-1] -= 1
    if parts[-1] < 0:
        parts[-1], parts[-2] = 999, parts[-2] - 1
    return ".".join(str(p) for p in parts)


def test_make_install_and_the_image_install_the_locked_versions():
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml requirements.lock" in dockerfile
    assert "pip install -c requirements.lock ." in dockerfile
