"""A volunteer's calendar feed as RFC 5545 text, written here rather than with a library.

The feed is a tiny subset of iCalendar (one VCALENDAR of VEVENTs with UTC times and text
properties), so the whole of what RFC 5545 asks of it fits in forty lines: CRLF line ends
(3.1), lines folded at 75 octets without splitting a UTF-8 character (3.1), TEXT escaping of
backslash, semicolon, comma and newlines (3.3.11), UTC DATE-TIME values (3.3.5) and the
required VERSION, PRODID, UID and DTSTAMP (3.6, 3.7, 3.8.7.2). A dependency (`icalendar`
and its own dependencies) would be more to pin and audit than this code; the tests parse the
output back and check every one of these rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

CRLF = "\r\n"
MAX_OCTETS = 75


@dataclass(frozen=True)
class Event:
    uid: str
    sequence: int
    start: dt.datetime
    end: dt.datetime
    summary: str
    location: str
    description: str
    cancelled: bool = False


# Apps above accompaniment add their own rows to a person's private feed (events: the events
# they RSVPed to) by registering a source at start-up: `source(user, host) -> events`, called
# inside the person's language. The feed stays one address, one token, one revocation.
FeedSource = Callable[[Any, str], Iterable[Event]]
_SOURCES: list[FeedSource] = []


def register_source(source: FeedSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def sources() -> tuple[FeedSource, ...]:
    return tuple(_SOURCES)


def escape_text(value: str) -> str:
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    # Other control characters are not allowed in TEXT (RFC 5545 3.3.11 / 3.1 "CONTROL").
    return "".join(ch for ch in value if ch == "\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces, continuation lines starting with a space."""
    pieces: list[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1  # the leading space counts
        current += ch
        size += width
    pieces.append(current)
    return (CRLF + " ").join(pieces)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: Iterable[Event], *, name: str, now: dt.datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Defensa//Accompaniment//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(event.uid)}",
            f"SEQUENCE:{event.sequence}",
            f"DTSTAMP:{utc(now)}",
            f"DTSTART:{utc(event.start)}",
            f"DTEND:{utc(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
            f"LOCATION:{escape_text(event.location)}",
            f"DESCRIPTION:{escape_text(event.description)}",
            f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
