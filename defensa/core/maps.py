"""Optional maps: an operator-run tile server, or none at all.

With `MAP_TILE_URL` empty nothing here does anything: pages show neighbourhood names and load
no map script. With it set, the report form, the dispatcher console and a committee's area
page load the vendored Leaflet (static/defensa/vendor/leaflet) and the Content-Security-Policy
of those responses lets in exactly the tile server's origin for images (and fetches), no other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

_PLACEHOLDERS = ("{z}", "{x}", "{y}")
_ALLOWED_BRACES = re.compile(r"\{(z|x|y|s|r)\}")


@functools.lru_cache(maxsize=4)
def _parse(url: str) -> str:
    """The tile server's origin, after checking the template is one Leaflet can use."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ImproperlyConfigured(
            "DEFENSA_MAP_TILE_URL must be an http(s) URL, like https://tiles.example.org/{z}/{x}/{y}.png"
        )
    if not all(p in url for p in _PLACEHOLDERS):
        raise ImproperlyConfigured("DEFENSA_MAP_TILE_URL must contain {z}, {x} and {y}")
    if "{s}" in url:
        # Subdomains would be other origins, which the CSP would have to name one by one.
        raise ImproperlyConfigured("DEFENSA_MAP_TILE_URL: use one host, without {s}")
    if any(c in _ALLOWED_BRACES.sub("", url) for c in "{}\"' ;,"):
        raise ImproperlyConfigured("DEFENSA_MAP_TILE_URL contains characters a URL should not")
    return f"{parts.scheme}://{parts.netloc}"


def tiles_configured() -> bool:
    return bool(settings.MAP_TILE_URL)


def tile_origin() -> str:
    """The scheme://host[:port] the browser fetches tiles from ("" when no map)."""
    return _parse(settings.MAP_TILE_URL) if settings.MAP_TILE_URL else ""


def center() -> tuple[float, float]:
    try:
        lat, lon = (float(v) for v in settings.MAP_CENTER.split(","))
    except ValueError as exc:
        raise ImproperlyConfigured('DEFENSA_MAP_CENTER must be "latitude,longitude"') from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ImproperlyConfigured("DEFENSA_MAP_CENTER is not a place on Earth")
    return lat, lon


def map_context(**extra: Any) -> dict[str, Any]:
    """What a template needs to draw the map, or {"map": None} when there is no tile server."""
    if not tiles_configured():
        return {"map": None}
    tile_origin()  # a bad template fails here, loudly, not in the browser
    lat, lon = center()
    return {
        "map": {
            "tiles": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "lat": f"{lat:.5f}",
            "lon": f"{lon:.5f}",
            "zoom": settings.MAP_ZOOM,
            **extra,
        }
    }


MAP_RESPONSE_FLAG = "_defensa_map_tiles"


def shows_map(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view's responses as showing the map: the CSP then admits the tile origin."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if tiles_configured():
            setattr(response, MAP_RESPONSE_FLAG, True)
        return response

    return wrapped


def content_security_policy(base: str, response: HttpResponse) -> str:
    """The base policy, with the tile origin added to img-src and connect-src on map pages."""
    if not getattr(response, MAP_RESPONSE_FLAG, False) or not tiles_configured():
        return base
    origin = tile_origin()
    directives = []
    for directive in base.split("; "):
        if directive.startswith(("img-src ", "connect-src ")):
            directive = f"{directive} {origin}"
        directives.append(directive)
    return "; ".join(directives)
