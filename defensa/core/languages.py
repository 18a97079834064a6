"""The languages Defensa speaks, in one place.

Each language is named in itself (a person who reads no English can find their own), says
whether it runs right to left, and whether a fluent speaker has reviewed its catalogues.
Texts that tell people their rights can hurt if wrong, so an unreviewed language shows a short
notice in that language pointing to the reviewed versions (docs/translating.md says how a
network's volunteers review a language and mark it reviewed here).

Which strings each language must have: the *public set*. Every string of the apps in
PUBLIC_APPS (what the public and members touch: the public pages, the report form and receipt,
alerts, broadcasts' fixed parts, the voice menu, sign-in and the member pages, pledging and
voting), plus every string in any app's modules that speak to people by SMS or message
(PUBLIC_SOURCES: messages rendered at send time, automatic SMS replies, and the pages reached
without an account or by a link). Staff pages
(console, cases, committee settings, records) stay English and Spanish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Language:
    code: str  # Django's language code (settings.LANGUAGES, LocaleMiddleware, the cookie)
    locale: str  # the folder name under each app's locale/
    name: str  # the language's name in itself
    english: str | Promise  # its name in English, translated where shown to staff (lazy)
    rtl: bool = False
    reviewed: bool = False  # every public catalogue checked by a fluent speaker


ALL: tuple[Language, ...] = (
    Language("en", "en", "English", _("English"), reviewed=True),
    Language("es", "es", "Español", _("Spanish"), reviewed=True),
    Language("zh-hans", "zh_Hans", "简体中文", _("Chinese (Simplified)")),
    Language("zh-hant", "zh_Hant", "繁體中文", _("Chinese (Traditional)")),
    Language("ko", "ko", "한국어", _("Korean")),
    Language("tl", "tl", "Tagalog", _("Tagalog")),
    Language("vi", "vi", "Tiếng Việt", _("Vietnamese")),
    Language("hy", "hy", "Հայերեն", _("Armenian")),
    Language("ar", "ar", "العربية", _("Arabic"), rtl=True),
    Language("ht", "ht", "Kreyòl ayisyen", _("Haitian Creole")),
)
BY_CODE: dict[str, Language] = {lang.code: lang for lang in ALL}
CODES: tuple[str, ...] = tuple(lang.code for lang in ALL)
# Room for the longest code ("zh-hans", "zh-hant") and a few to spare: every model that keeps
# a person's language uses it.
LANGUAGE_CODE_LENGTH = 10


def settings_languages() -> list[tuple[str, str | Promise]]:
    """settings.LANGUAGES: each code with its English name, translated lazily. Staff pages
    (committee settings, the broadcast form, the operator's "the caller speaks") show a
    language by its name in the reader's language, which a coordinator reading English or
    Spanish recognises; the public chooser names each language in itself from `name`."""
    return [(lang.code, lang.english) for lang in ALL]


# What Django's LANG_INFO lacks (it has no Tagalog or Haitian Creole): added by the core app's
# ready() so translation.get_language_info() names them.
EXTRA_LANG_INFO: dict[str, dict[str, object]] = {
    "tl": {"bidi": False, "code": "tl", "name": "Tagalog", "name_local": "Tagalog"},
    "ht": {"bidi": False, "code": "ht", "name": "Haitian Creole", "name_local": "Kreyòl ayisyen"},
}


def get(code: str | None) -> Language:
    """The Language of a code Django gives (`translation.get_language()`), English if unknown."""
    code = (code or "").lower()
    return BY_CODE.get(code) or BY_CODE.get(code.split("-")[0]) or ALL[0]


# The languages a coordinator's own words (a pledge, a vote's question) may be given in beside
# English (required) and Spanish, which have fields of their own.
OTHER: tuple[Language, ...] = tuple(lang for lang in ALL if lang.code not in ("en", "es"))
OTHER_CODES: tuple[str, ...] = tuple(lang.code for lang in OTHER)


def own_words(
    language: str | None, key: str, *, en: str, es: str, others: object
) -> tuple[str, Language]:
    """A coordinator's words in `language` (the active one when None), and the language they
    are in: Spanish from its own field, another language from `others` ({code: {key:
    words}}) when the coordinator gave it, else English."""
    wanted = get(language or translation.get_language() or settings.LANGUAGE_CODE)
    if wanted.code == "es":
        return es, wanted
    if wanted.code != "en" and isinstance(others, dict):
        given = others.get(wanted.code)
        words = given.get(key) if isinstance(given, dict) else None
        if isinstance(words, str) and words.strip():
            return words, wanted
    return en, ALL[0]


# Apps whose every string is in the public set.
PUBLIC_APPS: tuple[str, ...] = (
    "core",
    "pages",
    "reports",
    "subscribers",
    "voice",
    "notify",
    "webpush",
    "incidents",
    "broadcasts",
    "accounts",
    "pledges",
    "votes",
)
# In every other app, these sources are in the public set too: every message rendered at send
# time (templates/notify/messages/), automatic SMS replies (sms.py), and the pages a person
# reaches without an account or by a link sent to them (offers, check-ins, joining, recovery,
# an event's public page, taking part in a structure test, the verified page, a phone tree).
PUBLIC_SOURCES: tuple[str, ...] = (
    r"templates/notify/messages/",
    r"(^|/)sms\.py$",
    r"templates/dispatch/(respond|link_gone)\.html$",
    r"templates/accompaniment/checkin\.html$",
    r"templates/committees/(recover_[a-z]+|join|join_code)\.html$",
    r"templates/events/public\.html$",
    r"templates/organising/(take_part|link_invalid)\.html$",
    r"templates/record/(public_page|verified)\.html$",
    r"templates/trees/confirm\.html$",
)


def in_public_set(app: str, occurrences: list[tuple[str, str]]) -> bool:
    """Whether a catalogue entry of `app` (its source occurrences, as gettext lists them) must
    be translated into every language."""
    return app in PUBLIC_APPS or any(
        re.search(pattern, path) for path, _line in occurrences for pattern in PUBLIC_SOURCES
    )
