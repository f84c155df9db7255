"""The clinical rules the code cites are in the repository (docs/clinical-references.md), every cited section
exists, and nothing reads files from outside the repository."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "clinical-references.md"
CITATION = re.compile(r"docs/clinical-references\.md((?:#[a-z0-9-]+)?(?:,\s*#[a-z0-9-]+)*)")
OLD_CITATION = re.compile(r"DOMAIN(?:\.md|\s+§?\d)")
OUTSIDE = re.compile(r"\.\./shared|/work/shared|parent\s*/\s*\"shared\"")


def _tracked(*suffixes: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    if not listed:  # not a git checkout (an exported tree): every file
        return [p for p in ROOT.rglob("*") if p.suffix in suffixes and ".venv" not in p.parts]
    return [ROOT / name for name in listed.splitlines() if name.endswith(suffixes) and (ROOT / name).is_file()]


def _anchors() -> set[str]:
    return set(re.findall(r'<a id="([a-z0-9-]+)"></a>', DOC.read_text()))


def test_every_cited_section_exists():
    anchors = _anchors()
    missing = []
    for path in _tracked(".py", ".md", ".html", ".txt"):
        for match in CITATION.finditer(path.read_text(errors="replace")):
            for anchor in re.findall(r"#([a-z0-9-]+)", match.group(1)):
                if anchor not in anchors:
                    missing.append(f"{path.relative_to(ROOT)}: #{anchor}")
    assert not missing, missing


def test_nothing_cites_the_clinical_reference_outside_the_repository():
    this = Path(__file__).resolve()
    offenders = [
        str(path.relative_to(ROOT))
        for path in _tracked(".py", ".md", ".html", ".txt", ".toml", ".yml", ".cfg")
        if path.resolve() != this and OLD_CITATION.search(path.read_text(errors="replace"))
    ]
    assert not offenders, offenders


def test_no_page_template_shows_a_reference_to_the_documentation():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if "clinical-references" in path.read_text() or OLD_CITATION.search(path.read_text())
    ]
    assert not offenders, offenders


def test_nothing_reads_files_beside_the_repository():
    this = Path(__file__).resolve()
    offenders = [
        str(path.relative_to(ROOT))
        for path in _tracked(".py", ".toml", ".yml", ".cfg", "Makefile", "Dockerfile")
        if path.resolve() != this and OUTSIDE.search(path.read_text(errors="replace"))
    ]
    assert not offenders, offenders


def test_each_topic_the_code_relies_on_has_a_section():
    for anchor in (
        "instruments",
        "audit-dast",
        "c-ssrs",
        "contraindications",
        "interactions",
        "blood-pressure",
        "cadence",
        "dose-interval",
        "spravato",
        "vitals",
        "discharge",
        "rems",
        "outcomes",
        "relapse",
        "check-ins",
        "preparation",
        "billing-codes",
    ):
        assert anchor in _anchors(), anchor
