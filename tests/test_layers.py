"""Apps depend downward only: every import in the code follows docs/architecture.md's layers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "defensa"
# Named and justified in docs/architecture.md: the test personas, shared by every app's tests.
EXCEPTIONS = {("core/testing.py", "accounts"), ("core/testing.py", "committees")}


def layers() -> list[str]:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    match = re.search(r"^layers: (.+)$", doc, re.MULTILINE)
    assert match, "docs/architecture.md names the layers on a line 'layers: a, b, ...'"
    return [name.strip() for name in match.group(1).split(",")]


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
            if node.module == "defensa":
                names = [f"defensa.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "defensa" and len(parts) > 1 and parts[1] not in ("settings", "urls"):
                found.add(parts[1])
    return found


def test_the_doc_names_every_app_once() -> None:
    order = layers()
    apps = {p.name for p in APPS.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert len(order) == len(set(order))
    assert set(order) == apps, f"in the code, not the doc: {apps - set(order)}; " + (
        f"in the doc, not the code: {set(order) - apps}"
    )


def test_no_app_imports_one_above_it() -> None:
    order = layers()
    rank = {app: n for n, app in enumerate(order)}
    upward = []
    for app in order:
        for path in (APPS / app).rglob("*.py"):
            rel = path.relative_to(APPS)
            if "tests" in rel.parts or "migrations" in rel.parts:
                continue  # tests may drive the apps above; migrations name models by string
            for other in imported_apps(path) - {app}:
                if rank.get(other, -1) > rank[app] and (str(rel), other) not in EXCEPTIONS:
                    upward.append(f"{rel} imports {other}")
    assert not upward, "imports that go upward:\n" + "\n".join(sorted(upward))


def test_the_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from defensa.dispatch.actions import accept_offer\n")
    assert imported_apps(sample) == {"dispatch"}
