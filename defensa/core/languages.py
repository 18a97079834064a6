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
(PUBLIC_MODULES: automatic SMS replies and messages rendered at send time). Staff pages
(console, cases, committee settings, records) stay English and Spanish.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # Django's language code (settings.LANGUAGES, LocaleMiddleware, the cookie)
    locale: str  # the folder name under each app's locale/
    name: str  # the language's name in itself
    english: str  # its name in English (translated where shown to staff)
    rtl: bool = False
    reviewed: bool = False  # every public catalogue checked by a fluent speaker


ALL: tuple[Language, ...] = (
    Language("en", "en", "English", "English", reviewed=True),
    Language("es", "es", "Español", "Spanish", reviewed=True),
    Language("zh-hans", "zh_Hans", "简体中文", "Chinese (Simplified)"),
    Language("zh-hant", "zh_Hant", "繁體中文", "Chinese (Traditional)"),
    Language("ko", "ko", "한국어", "Korean"),
    Language("tl", "tl", "Tagalog", "Tagalog"),
    Language("vi", "vi", "Tiếng Việt", "Vietnamese"),
    Language("hy", "hy", "Հայերեն", "Armenian"),
    Language("ar", "ar", "العربية", "Arabic", rtl=True),
    Language("ht", "ht", "Kreyòl ayisyen", "Haitian Creole"),
)
BY_CODE: dict[str, Language] = {lang.code: lang for lang in ALL}

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
# In every other app, the strings of these modules (file names) are in the public set too:
# automatic SMS replies and the messages rendered at send time to members and the public.
PUBLIC_MODULES: tuple[str, ...] = ("sms.py", "messages.py", "inbound.py")
