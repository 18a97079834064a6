"""The site's name and hotline for templates rendered without a request (500.html).

Django renders 500.html with an empty context (no context processors, no request, no
database): these read settings only, so the error page still says where to get help.
"""

from __future__ import annotations

import functools

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def network_name() -> str:
    return str(settings.NETWORK_NAME)


@register.simple_tag
def hotline_number() -> str:
    return str(settings.HOTLINE_NUMBER)


@register.filter
def tel(number: str) -> str:
    """A phone number as a tel: link wants it: digits and a leading +."""
    return "".join(ch for ch in str(number) if ch.isdigit() or ch == "+")


@register.simple_tag
def language_choices() -> tuple:
    """Every language the site speaks, each named in itself (the chooser of base.html)."""
    from defensa.core import languages

    return languages.ALL


@register.simple_tag
def language_current():  # type: ignore[no-untyped-def]
    """The Language of the page being rendered."""
    from django.utils import translation

    from defensa.core import languages

    return languages.get(translation.get_language())


@register.simple_tag
def language_buttons(current) -> str:  # type: ignore[no-untyped-def]
    """The chooser's buttons, one per language, the current one marked: the same markup for
    every page in that language, so built once per language and process (a loop of ten
    buttons was a tenth of rendering the public report's receipt, docs/performance.md)."""
    return _language_buttons(current.code)


@functools.cache
def _language_buttons(current_code: str) -> str:
    from defensa.core import languages

    return mark_safe(  # noqa: S308 - every value goes through format_html
        "".join(
            format_html(
                '\n<li><button name="language" value="{}" lang="{}"{}{}>{}</button></li>',
                lang.code,
                lang.code,
                mark_safe(' dir="rtl"') if lang.rtl else "",  # noqa: S308 - a constant
                mark_safe(' aria-current="true"') if lang.code == current_code else "",  # noqa: S308
                lang.name,
            )
            for lang in languages.ALL
        )
    )
