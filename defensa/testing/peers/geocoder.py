"""A self-hosted geocoder on loopback: Nominatim's `/search?format=jsonv2` and Pelias'
`/v1/search`, answering from a small table of known places, and misbehaving on request
(`mode`: "ok", "slow" past any timeout, "garbage" that is not JSON, "wrong" JSON of the wrong
shape, "error" a 500). Every query it was asked is kept in `asked`, so a test can prove that
nothing was sent when no geocoder is configured.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from defensa.testing.peers import LoopbackPeer, QuietHandler

# Known places: what someone types (lower case) -> (name, lat, lon). Real Los Angeles spots.
PLACES: dict[str, list[tuple[str, float, float]]] = {
    "soto and 1st": [
        ("Soto Street & East 1st Street, Boyle Heights, Los Angeles, CA 90033", 34.0442, -118.2102),
    ],
    "whittier and atlantic": [
        ("Whittier Boulevard & Atlantic Boulevard, East Los Angeles, CA 90022", 34.0240, -118.1544),
        ("Whittier Boulevard & Atlantic Avenue, Long Beach, CA", 33.8350, -118.1850),
    ],
}


@dataclass
class GeocoderPeer(LoopbackPeer):
    mode: str = "ok"
    slow_seconds: float = 5.0
    asked: list[str] = field(default_factory=list)

    def answer(self, query: str) -> list[tuple[str, float, float]]:
        return PLACES.get(" ".join(query.lower().split()), [])

    def handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/search" and params.get("format") == "jsonv2":
                    query = params.get("q", "")
                    pelias = False
                elif parts.path == "/v1/search":
                    query = params.get("text", "")
                    pelias = True
                else:
                    self.reply(404)
                    return
                peer.asked.append(query)
                if peer.mode == "slow":
                    time.sleep(peer.slow_seconds)
                if peer.mode == "error":
                    self.reply(500, b"internal error", content_type="text/plain")
                    return
                if peer.mode == "garbage":
                    self.reply(200, b"<html>not json", content_type="text/html")
                    return
                if peer.mode == "wrong":
                    body = json.dumps([{"lat": "north", "lon": None}]).encode()
                    self.reply(200, body, content_type="application/json")
                    return
                found = peer.answer(query)
                if pelias:
                    data: object = {
                        "type": "FeatureCollection",
                        "features": [
                            {
                                "type": "Feature",
                                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                                "properties": {"label": name},
                            }
                            for name, lat, lon in found
                        ],
                    }
                else:
                    data = [
                        {
                            "place_id": i + 1,
                            "lat": f"{lat:.7f}",
                            "lon": f"{lon:.7f}",
                            "display_name": name,
                            "category": "highway",
                            "type": "crossing",
                        }
                        for i, (name, lat, lon) in enumerate(found)
                    ]
                body = json.dumps(data).encode()
                self.reply(200, body, content_type="application/json")

        return Handler
