"""Spanish ships complete: every marked string is in a catalogue, and every entry translated.
Every other language of core/languages.py has the public set: translated, not fuzzy, its plural
forms, the same placeholders, and msgfmt --check-format accepts it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import django
import polib
import pytest

from defensa.core import languages

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


_FRESH: dict[str, polib.POFile] = {}


def fresh_catalogue(app: Path, tmp_path_factory: pytest.TempPathFactory) -> polib.POFile:
    """The app's strings extracted afresh (as makemessages would), once per app for every
    language's check: extraction is the slow part, so it runs once per test session."""
    if app.name in _FRESH:
        return _FRESH[app.name]
    assert shutil.which("xgettext"), "GNU gettext is missing: make test installs it"
    copy = tmp_path_factory.mktemp("fresh") / app.name
    shutil.copytree(app, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo"))
    (copy / "locale").mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemessages", "-l", "es", "--no-obsolete"],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    _FRESH[app.name] = polib.pofile(str(copy / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    return _FRESH[app.name]


@pytest.mark.parametrize("app", app_dirs_with_strings(), ids=lambda p: p.name)
def test_catalogue_holds_every_marked_string(
    app: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Extract the strings afresh (as makemessages would) and compare with the catalogue."""
    po_path = app / "locale" / "es" / "LC_MESSAGES" / "django.po"
    assert po_path.exists(), f"{app.name} has translatable strings but no Spanish catalogue"
    fresh = {(e.msgctxt, e.msgid) for e in fresh_catalogue(app, tmp_path_factory)}
    committed = {
        (e.msgctxt, e.msgid)
        for e in polib.pofile(str(app / "locale" / "es" / "LC_MESSAGES" / "django.po"))
        if not e.obsolete
    }
    missing = sorted(m for _, m in fresh - committed)
    assert not missing, (
        f"{app.name}: strings not in the Spanish catalogue (run makemessages): {missing[:10]}"
    )


# The other languages (core/languages.py): every string of the public set translated.
OTHER_LANGUAGES = [lang for lang in languages.ALL if lang.code not in ("en", "es")]
# nplurals of each language's Plural-Forms header (CLDR / gettext's own table).
NPLURALS = {
    "zh_Hans": 1,
    "zh_Hant": 1,
    "ko": 1,
    "vi": 1,
    "tl": 2,
    "hy": 2,
    "ht": 2,
    "ar": 6,
}
PLACEHOLDER = re.compile(
    r"%\((\w+)\)[-#0+]*\d*(?:\.\d+)?[sdifr]|%[-#0+]*\d*(?:\.\d+)?[sdifr]|\{\w*\}"
)


def placeholders(text: str) -> list[str]:
    """The format placeholders of a message (%(name)s, %s, %d, {name}), sorted; %% is a
    literal per cent sign."""
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text.replace("%%", "")))


def public_entries(app: Path, fresh: polib.POFile) -> list[polib.POEntry]:
    """The entries of a freshly extracted catalogue that core/languages.py's public set holds."""
    return [
        e
        for e in fresh
        if e.msgid and languages.in_public_set(app.name, [tuple(o) for o in e.occurrences])
    ]


def check_language(
    app: Path, locale: str, fresh: polib.POFile, po_path: Path | None = None
) -> list[str]:
    """Every problem of one app's catalogue in one language; an empty list when it is sound.

    Public strings of the fresh extraction must be there, translated and not fuzzy; the
    Plural-Forms header says the language's number of forms; every translation keeps the
    msgid's placeholders; GNU msgfmt --check-format accepts the file."""
    public = public_entries(app, fresh)
    po_path = po_path or app / "locale" / locale / "LC_MESSAGES" / "django.po"
    if not public:
        return []
    if not po_path.exists():
        return [f"{app.name}/{locale}: no catalogue, {len(public)} public strings to translate"]
    problems: list[str] = []
    catalogue = polib.pofile(str(po_path))
    plural_forms = catalogue.metadata.get("Plural-Forms", "")
    found = re.search(r"nplurals\s*=\s*(\d+)", plural_forms)
    if not found or int(found.group(1)) != NPLURALS[locale]:
        problems.append(f"Plural-Forms {plural_forms!r}: nplurals must be {NPLURALS[locale]}")
    entries = {(e.msgctxt, e.msgid): e for e in catalogue if not e.obsolete}
    for wanted in public:
        entry = entries.get((wanted.msgctxt, wanted.msgid))
        name = wanted.msgid[:60]
        if entry is None:
            problems.append(f"missing: {name!r}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {name!r}")
        wanted_marks = set(placeholders(entry.msgid_plural or entry.msgid))
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(i, "") for i in range(NPLURALS[locale])]
            if not all(forms):
                problems.append(f"untranslated plural form: {name!r}")
            # A form for one may leave out the count ("one photo"); the last form keeps all.
            if forms and forms[-1] and set(placeholders(forms[-1])) != wanted_marks:
                problems.append(f"placeholders {placeholders(forms[-1])}: {name!r}")
            if any(not set(placeholders(f)) <= wanted_marks for f in forms):
                problems.append(f"unknown placeholder in a plural form: {name!r}")
        else:
            if not entry.msgstr:
                problems.append(f"untranslated: {name!r}")
            elif set(placeholders(entry.msgstr)) != wanted_marks:
                problems.append(f"placeholders {placeholders(entry.msgstr)}: {name!r}")
    done = subprocess.run(
        ["msgfmt", "--check-format", "-o", "/dev/null", str(po_path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        problems.append(f"msgfmt --check-format: {done.stderr.strip()[:500]}")
    return [f"{app.name}/{locale}: {p}" for p in problems]


@pytest.mark.parametrize("app", app_dirs_with_strings(), ids=lambda p: p.name)
def test_every_language_has_the_public_set(
    app: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """One extraction per app, every language checked against it (core/languages.py)."""
    assert shutil.which("msgfmt"), "GNU gettext is missing: make test installs it"
    fresh = fresh_catalogue(app, tmp_path_factory)
    problems = [p for lang in OTHER_LANGUAGES for p in check_language(app, lang.locale, fresh)]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:30])


SAMPLE_HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: {plural}\\n"
"""
AR_PLURAL = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
    "n%100>=11 ? 4 : 5;"
)


def _sample(tmp_path: Path, name: str, header: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(SAMPLE_HEADER.format(plural=header) + body, encoding="utf-8")
    return path


def test_the_language_check_passes_a_sound_catalogue_and_names_each_fault(tmp_path: Path) -> None:
    """check_language on hand-made Arabic catalogues: a sound one passes; each fault is named."""
    fresh = polib.POFile()
    fresh.append(polib.POEntry(msgid="Report", occurrences=[("views.py", "1")]))
    fresh.append(
        polib.POEntry(msgid="Hello %(name)s", flags=["python-format"], occurrences=[("a.py", "2")])
    )
    fresh.append(
        polib.POEntry(
            msgid="%(n)s photo",
            msgid_plural="%(n)s photos",
            flags=["python-format"],
            occurrences=[("a.py", "3")],
        )
    )
    sound = _sample(
        tmp_path,
        "sound.po",
        AR_PLURAL,
        """
msgid "Report"
msgstr "أبلغ"

#, python-format
msgid "Hello %(name)s"
msgstr "مرحبا %(name)s"

#, python-format
msgid "%(n)s photo"
msgid_plural "%(n)s photos"
msgstr[0] "%(n)s صور"
msgstr[1] "صورة واحدة"
msgstr[2] "صورتان"
msgstr[3] "%(n)s صور"
msgstr[4] "%(n)s صورة"
msgstr[5] "%(n)s صورة"
""",
    )
    app = APPS / "core"  # in the public set: every string counts
    assert check_language(app, "ar", fresh, sound) == []
    broken = _sample(
        tmp_path,
        "broken.po",
        "nplurals=2; plural=(n != 1);",
        """
#, fuzzy
msgid "Report"
msgstr "أبلغ"

#, python-format
msgid "Hello %(name)s"
msgstr "مرحبا %(nom)s"
""",
    )
    problems = "\n".join(check_language(app, "ar", fresh, broken))
    assert "nplurals must be 6" in problems
    assert "fuzzy: 'Report'" in problems
    assert "placeholders ['%(nom)s']: 'Hello %(name)s'" in problems
    assert "missing: '%(n)s photo'" in problems
    assert "msgfmt --check-format" in problems  # %(nom)s is not in the msgid
    # A staff-only string of an app outside the public set is not asked for.
    staff = APPS / "cases"
    assert check_language(staff, "ar", fresh, tmp_path / "none.po") == []


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

    template = Template("${{ cost }} · {{ ratio }} · {{ day|date:'DATE_FORMAT' }}")
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
