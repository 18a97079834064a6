"""Language cells of a spreadsheet ("Spanish", "español", "es" ...) read as the site's codes."""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils import translation

from defensa.core import languages


@functools.cache
def language_names() -> dict[str, str]:
    """Every way a row may name a language the site speaks (lower case) -> its code."""
    names: dict[str, str] = {}
    for code, label in settings.LANGUAGES:
        names[code.lower()] = code
        names[str(label).lower()] = code
        for lang, _label in settings.LANGUAGES:
            with translation.override(lang):
                names[str(translation.gettext(label)).lower()] = code
    # Each language by its own name and its folder's name (core/languages.py).
    for lang in languages.ALL:
        names[lang.name.lower()] = lang.code
        names[lang.locale.lower()] = lang.code
    # What spreadsheets write for the languages the site ships.
    names.update(
        {
            "english": "en",
            "inglés": "en",
            "ingles": "en",
            "spanish": "es",
            "español": "es",
            "espanol": "es",
            "castellano": "es",
            "simplified chinese": "zh-hans",
            "chinese simplified": "zh-hans",
            "zh-cn": "zh-hans",
            "traditional chinese": "zh-hant",
            "chinese traditional": "zh-hant",
            "zh-tw": "zh-hant",
            "中文": "zh-hans",
            "filipino": "tl",
            "haitian": "ht",
            "creole": "ht",
            "kreyol": "ht",
            "kreyòl": "ht",
            "kreyol ayisyen": "ht",
        }
    )
    return {k: v for k, v in names.items() if v in dict(settings.LANGUAGES)}
