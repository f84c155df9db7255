"""The layers of docs/architecture.md, beyond what import-linter's contracts (pyproject.toml) check in `make lint`."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = sorted(p.stem for p in (ROOT / "kap_clinic" / "rules").glob("*.py") if p.stem != "__init__")
APP_FOLDERS = ["kap_clinic", "patients", "screening", "sessions", "aftercare", "billing"]


def test_every_pure_rule_module_loads_with_the_standard_library_alone():
    """Imported in a fresh interpreter, the rules bring in nothing but the standard library and themselves: no Django,
    no Celery, no settings."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {RULES!r}: importlib.import_module('kap_clinic.rules.' + name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", script], cwd=ROOT, text=True))
    foreign = [m for m in loaded if m not in sys.stdlib_module_names and not m.startswith("_") and m != "kap_clinic"]
    assert RULES, "no rule modules found"
    assert foreign == [], f"the rules load more than the standard library: {foreign}"


def _function_imports(path: Path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner.lineno, "#" in lines[inner.lineno - 1] or _comment_above(lines, inner.lineno - 1)


def _comment_above(lines: list[str], index: int) -> bool:
    """A comment heads the block of imports this line belongs to (blank lines and other imports in between)."""
    for line in reversed(lines[:index]):
        text = line.strip()
        if text.startswith("#"):
            return True
        if text and not text.startswith(("from ", "import ")):
            return False
    return False


def test_an_import_inside_a_function_says_why():
    """Imports belong at the top of a module; the few that must wait (a heavy library loaded only for a PDF, a module
    that needs the app registry ready) carry a comment saying so. Imports that only dodged an import cycle are gone:
    the layers make them unnecessary."""
    unexplained = []
    for folder in APP_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            unexplained += [f"{path.relative_to(ROOT)}:{line}" for line, said in _function_imports(path) if not said]
    assert unexplained == []
