"""Evidence is the media layer beneath reports and dispatch; record and demo sit on top.

Evidence used to import reports and dispatch while both imported it. These checks read the
import statements of the code (tests left out where they exercise the apps above on purpose)
so the loops cannot come back unnoticed.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

APPS = Path(settings.BASE_DIR) / "defensa"
# What evidence may import: the shared pieces, and incidents' retention for its media.
EVIDENCE_MAY_IMPORT = {"core", "audit", "incidents", "evidence"}


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "defensa" and len(parts) > 1:
                found.add(parts[1])
    return found


def sources(app: str, *, tests: bool) -> list[Path]:
    return [
        p
        for p in (APPS / app).rglob("*.py")
        if "migrations" not in p.parts and (tests or "tests" not in p.parts)
    ]


def test_evidence_imports_nothing_above_it() -> None:
    files = sources("evidence", tests=True)
    assert files
    for path in files:
        above = imported_apps(path) - EVIDENCE_MAY_IMPORT
        assert not above, f"{path.relative_to(APPS)} imports {sorted(above)}"


def layers() -> list[str]:
    """The layers line of docs/architecture.md, lowest first (tests/test_layers.py's rule)."""
    text = (Path(settings.BASE_DIR) / "docs" / "architecture.md").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("layers:"))
    return [name.strip() for name in line.removeprefix("layers:").split(",")]


def test_nothing_imports_the_apps_on_top() -> None:
    # record reads everything beneath it; demo seeds everything: only the apps layered above
    # record (ops and pages read its figures and places) may need it, and nothing needs demo.
    order = layers()
    above_record = set(order[order.index("record") + 1 :])
    for app in sorted(p.name for p in APPS.iterdir() if (p / "apps.py").is_file()):
        if app in ("record", "demo"):
            continue
        top = {"demo"} if app in above_record else {"record", "demo"}
        for path in sources(app, tests=False):
            found = imported_apps(path) & top
            assert not found, f"{path.relative_to(APPS)} imports {sorted(found)}"
