"""Spanish ships complete: every marked string is in a catalogue, and every entry translated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "defensa"


def app_dirs_with_strings() -> list[Path]:
    """Apps whose Python or templates contain translatable strings."""
    found = []
    for app in sorted(p for p in APPS.iterdir() if (p / "apps.py").exists()):
        sources = [
            f
            for f in [*app.rglob("*.py"), *app.rglob("*.html"), *app.rglob("*.txt")]
            if "tests" not in f.parts and "migrations" not in f.parts
        ]
        if any(
            marker in f.read_text(errors="ignore")
            for f in sources
            for marker in ("gettext", "{% translate", "{% blocktranslate", "{% trans ")
        ):
            found.append(app)
    return found


@pytest.mark.parametrize("app", app_dirs_with_strings(), ids=lambda p: p.name)
def test_spanish_catalogue_is_complete(app: Path) -> None:
    po_path = app / "locale" / "es" / "LC_MESSAGES" / "django.po"
    assert po_path.exists(), f"{app.name} has translatable strings but no Spanish catalogue"
    catalogue = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"{app.name}: untranslated: {untranslated[:10]}"
    assert not fuzzy, f"{app.name}: fuzzy: {fuzzy[:10]}"


@pytest.mark.parametrize("app", app_dirs_with_strings(), ids=lambda p: p.name)
def test_catalogue_holds_every_marked_string(app: Path, tmp_path: Path) -> None:
    """Extract the strings afresh (as makemessages would) and compare with the catalogue."""
    assert shutil.which("xgettext"), "GNU gettext is missing: make test installs it"
    po_path = app / "locale" / "es" / "LC_MESSAGES" / "django.po"
    assert po_path.exists(), f"{app.name} has translatable strings but no Spanish catalogue"
    copy = tmp_path / app.name
    shutil.copytree(app, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo"))
    (copy / "locale").mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemessages", "-l", "es", "--no-obsolete"],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    fresh = {
        (e.msgctxt, e.msgid)
        for e in polib.pofile(str(copy / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    }
    committed = {
        (e.msgctxt, e.msgid)
        for e in polib.pofile(str(app / "locale" / "es" / "LC_MESSAGES" / "django.po"))
        if not e.obsolete
    }
    missing = sorted(m for _, m in fresh - committed)
    assert not missing, (
        f"{app.name}: strings not in the Spanish catalogue (run makemessages): {missing[:10]}"
    )
