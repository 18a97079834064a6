"""Suggestions of a place for an address or cross streets, from the operator's own geocoder.

Only when `DEFENSA_GEOCODER_URL` names one (a self-hosted Nominatim or Pelias): without it
`configured()` is False, nothing here opens a connection, and places are given by hand (ZIP
code or neighbourhood cell). The text asked about goes to that server and nowhere else; the
answer is turned into neighbourhood cells at once (never finer than a neighbourhood, like
every place Defensa shows), and nothing of the exchange is stored.

    if geocoder.configured():
        try:
            found = geocoder.suggest("Soto and 1st, Boyle Heights")
        except geocoder.GeocoderFailed as failure:
            failure.code  # "timeout", "unreachable", "refused", "unreadable"
"""

from __future__ import annotations

import http.client
import json
import math
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings

from defensa.core import geo

MAX_ANSWER_BYTES = 256 * 1024  # five places are a few kilobytes; more is not an answer
MAX_SUGGESTIONS = 5
MAX_QUERY = 200
LABEL_LIMIT = 160


class GeocoderFailed(Exception):
    """The geocoder gave no usable answer; `code` says how (for the page's words)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Suggestion:
    label: str  # the geocoder's own name for the place, shortened
    cell: str  # the neighbourhood cell it falls in (geo.AREA_RESOLUTION)


def configured() -> bool:
    return bool(settings.GEOCODER_URL)


def suggest(text: str) -> list[Suggestion]:
    """Up to MAX_SUGGESTIONS places for `text`, one per neighbourhood cell, best first.

    Raises GeocoderFailed when no geocoder is configured or it fails (slow, down, an error
    status, an answer that is not the protocol's JSON). An empty list: it found nothing.
    """
    query = " ".join(text.split())[:MAX_QUERY]
    if not configured() or not query:
        raise GeocoderFailed("refused")
    if settings.GEOCODER_KIND == "pelias":
        answer = _get("/v1/search", {"text": query, "size": MAX_SUGGESTIONS})
        points = _pelias_points(answer)
    else:
        answer = _get("/search", {"q": query, "format": "jsonv2", "limit": MAX_SUGGESTIONS})
        points = _nominatim_points(answer)
    found: dict[str, Suggestion] = {}
    for label, lat, lon in points:
        cell = geo.cell_for(lat, lon)
        if cell not in found:
            found[cell] = Suggestion(label=label, cell=cell)
    return list(found.values())[:MAX_SUGGESTIONS]


def _get(path: str, params: dict[str, Any]) -> Any:
    """GET base URL + path with `params`; the parsed JSON, or GeocoderFailed."""
    base = urlsplit(settings.GEOCODER_URL)
    timeout = settings.GEOCODER_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    if base.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            base.hostname or "", base.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(base.hostname or "", base.port, timeout=timeout)
    target = f"{base.path.rstrip('/')}{path}?{urlencode(params)}"
    try:
        conn.request("GET", target, headers={"Accept": "application/json"})
        response = conn.getresponse()
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise GeocoderFailed("timeout")
            chunk = response.read(16 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise GeocoderFailed("unreadable")
            chunks.append(chunk)
    except TimeoutError:
        raise GeocoderFailed("timeout") from None
    except (OSError, http.client.HTTPException):
        raise GeocoderFailed("unreachable") from None
    finally:
        conn.close()
    if response.status != 200:
        raise GeocoderFailed("unreachable")
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        raise GeocoderFailed("unreadable") from None


def _point(label: Any, lat: Any, lon: Any) -> tuple[str, float, float]:
    try:
        y, x = float(lat), float(lon)
    except (TypeError, ValueError):
        raise GeocoderFailed("unreadable") from None
    if not (math.isfinite(y) and math.isfinite(x) and -90 <= y <= 90 and -180 <= x <= 180):
        raise GeocoderFailed("unreadable")
    text = " ".join(str(label or "").split())
    if len(text) > LABEL_LIMIT:
        text = text[: LABEL_LIMIT - 1] + "…"
    return text, y, x


def _nominatim_points(answer: Any) -> list[tuple[str, float, float]]:
    """Nominatim's /search?format=jsonv2: a list of {"lat": "..", "lon": "..",
    "display_name": ".."}."""
    if not isinstance(answer, list):
        raise GeocoderFailed("unreadable")
    points = []
    for place in answer[:MAX_SUGGESTIONS]:
        if not isinstance(place, dict):
            raise GeocoderFailed("unreadable")
        points.append(_point(place.get("display_name"), place.get("lat"), place.get("lon")))
    return points


def _pelias_points(answer: Any) -> list[tuple[str, float, float]]:
    """Pelias' /v1/search: GeoJSON, features with point coordinates [lon, lat] and a label."""
    features = answer.get("features") if isinstance(answer, dict) else None
    if not isinstance(features, list):
        raise GeocoderFailed("unreadable")
    points = []
    for feature in features[:MAX_SUGGESTIONS]:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            raise GeocoderFailed("unreadable")
        label = properties.get("label") if isinstance(properties, dict) else ""
        points.append(_point(label, coordinates[1], coordinates[0]))
    return points
