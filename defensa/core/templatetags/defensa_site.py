"""The site's name and hotline for templates rendered without a request (500.html).

Django renders 500.html with an empty context (no context processors, no request, no
database): these read settings only, so the error page still says where to get help.
"""

from __future__ import annotations

from django import template
from django.conf import settings

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
