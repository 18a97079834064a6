"""`{% my_places %}`: My page's sections, from `defensa.pages.places.places_for`.

A tag (rather than the accounts view) so that `accounts`, which sits below the domain apps,
shows them without importing them.
"""

from __future__ import annotations

from typing import Any

from django import template

from defensa.pages.places import places_for

register = template.Library()


@register.inclusion_tag("pages/_my_places.html", takes_context=True)
def my_places(context: dict[str, Any]) -> dict[str, Any]:
    return {"sections": places_for(context.get("user"))}
