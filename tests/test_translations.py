"""Spanish ships complete: every marked string is in a catalogue, and every entry translated."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import django
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


# Spanish speaks to a person as tú. Usted shows as these words in Django's own catalogue.
USTED = re.compile(
    r"\b(usted|Introduzca|Introduza|Ingrese|Asegúrese|Compruebe|Escoja|Seleccione|Envíe|envíe un|"
    r"[Cc]orrija|[Mm]arque|Desmarque|Observe|[Vv]uelva a|[Ss]u contraseña|[Ss]u navegador|"
    r"su otra|ha configurado|introduzca)\b"
)
DJANGO = Path(django.__file__).parent
DJANGO_CATALOGUES = [
    DJANGO / "conf" / "locale" / "es" / "LC_MESSAGES" / "django.po",
    DJANGO / "contrib" / "auth" / "locale" / "es" / "LC_MESSAGES" / "django.po",
]


def test_djangos_own_messages_speak_as_tu() -> None:
    """Every Django message that says usted in Spanish is retold in tú (defensa/locale)."""
    from django.utils import translation

    with translation.override("es"):
        for path in DJANGO_CATALOGUES:
            for entry in polib.pofile(str(path)):
                theirs = entry.msgstr or " ".join(entry.msgstr_plural.values())
                if not entry.msgid or not USTED.search(theirs):
                    continue
                if entry.msgid_plural:
                    ours = " ".join(
                        translation.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)
                    )
                else:
                    ours = translation.gettext(entry.msgid)
                assert not USTED.search(ours), f"{entry.msgid!r} is still usted: {ours!r}"


def test_a_form_error_reaches_the_person_in_tu() -> None:
    from django import forms
    from django.utils import translation

    class Form(forms.Form):
        email = forms.EmailField()

    with translation.override("es"):
        form = Form({"email": "no es un correo"})
        assert not form.is_valid()
        assert form.errors["email"] == ["Escribe un correo electrónico válido."]


# One convention for role names: a person whose gender we do not know is "un(a)
# coordinador(a)"; plurals take the general form ("coordinadores").
ROLE = re.compile(
    r"\b(coordinador|despachador|verificador|abogado|operador|administrador|observador|"
    r"voluntario|organizador)\b(?!\(a\))",
    re.IGNORECASE,
)


def test_role_names_follow_one_convention() -> None:
    offenders = []
    for po_path in sorted(APPS.rglob("locale/es/LC_MESSAGES/django.po")):
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete:
                continue
            for text in [entry.msgstr, *entry.msgstr_plural.values()]:
                if ROLE.search(text):
                    offenders.append(f"{po_path.parent.parent.parent.parent.name}: {text!r}")
    assert not offenders, "write un(a) coordinador(a), not un coordinador:\n" + "\n".join(
        offenders[:20]
    )


def test_money_and_dates_read_as_us_spanish() -> None:
    """US Spanish writes $0.83 (not 0,83), and months in lower case."""
    import datetime as dt
    from decimal import Decimal

    from django.template import Context, Template
    from django.utils import translation

    template = Template(
        "${{ cost }} · {{ ratio }} · {{ day|date:'DATE_FORMAT' }}"
    )
    with translation.override("es"):
        text = template.render(
            Context({"cost": Decimal("0.83"), "ratio": 1.5, "day": dt.date(2026, 12, 4)})
        )
    assert text == "$0.83 · 1.5 · 4 de diciembre de 2026"


def test_one_string_reads_one_way_in_every_app() -> None:
    """Django merges every app's catalogue: a msgid translated two ways in two apps shows one
    of them everywhere, silently. Strings that mean two things take a context (pgettext)."""
    seen: dict[tuple[str, str, str], dict[str, set[str]]] = {}
    for po_path in sorted(APPS.rglob("locale/es/LC_MESSAGES/django.po")):
        app = po_path.parts[-5]
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete or not entry.msgid:
                continue
            text = entry.msgstr or " | ".join(v for _k, v in sorted(entry.msgstr_plural.items()))
            key = (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")
            seen.setdefault(key, {}).setdefault(text, set()).add(app)
    clashes = [
        f"{key[1]!r}: " + "; ".join(f"{t!r} in {sorted(apps)}" for t, apps in texts.items())
        for key, texts in seen.items()
        if len(texts) > 1
    ]
    assert not clashes, "translated differently in different apps:\n" + "\n".join(clashes[:20])
