"""Language cells of a spreadsheet ("Spanish", "español", "es" ...) read as the site's codes."""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils import translation


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
    # What spreadsheets write for the two languages the site ships.
    names.update(
        {
            "english": "en",
            "inglés": "en",
            "ingles": "en",
            "spanish": "es",
            "español": "es",
            "espanol": "es",
            "castellano": "es",
        }
    )
    return {k: v for k, v in names.items() if v in dict(settings.LANGUAGES)}
