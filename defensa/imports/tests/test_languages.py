"""A spreadsheet's language cell, in any of the ways people write the site's ten languages."""

from __future__ import annotations

import pytest

from defensa.core import languages
from defensa.imports.languages import language_names


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("Spanish", "es"),
        ("español", "es"),
        ("Korean", "ko"),
        ("coreano", "ko"),
        ("한국어", "ko"),
        ("zh-hans", "zh-hans"),
        ("Simplified Chinese", "zh-hans"),
        ("繁體中文", "zh-hant"),
        ("Tiếng Việt", "vi"),
        ("Filipino", "tl"),
        ("Kreyòl ayisyen", "ht"),
        ("العربية", "ar"),
        ("armenio", "hy"),
    ],
)
def test_each_language_is_read_by_its_names(cell: str, code: str) -> None:
    assert language_names().get(cell.lower()) == code


def test_every_language_of_the_list_is_read_by_its_own_name_and_code() -> None:
    names = language_names()
    for lang in languages.ALL:
        assert names[lang.name.lower()] == lang.code
        assert names[lang.code] == lang.code
