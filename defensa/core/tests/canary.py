"""Canary values and the places to look for them: database, files, log records."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

# Documentation address block (RFC 5737) and a browser that does not exist.
CANARY_IP = "203.0.113.77"
CANARY_UA = "CanaryBrowser/9.9"
# Need-to-know canaries for encrypted fields (property 14): an A-number nobody has and a
# fictional 555 number no persona uses. CANARY_NEEDLES are the spellings a leak could take.
CANARY_A_NUMBER = "A000000000"
CANARY_PHONE = "+1 323 555 0177"
CANARY_NEEDLES = (CANARY_A_NUMBER, CANARY_PHONE, "3235550177", "323-555-0177", "555 0177")
CANARY_HEADERS = {
    "REMOTE_ADDR": CANARY_IP,
    "HTTP_X_FORWARDED_FOR": f"{CANARY_IP}, 10.0.0.1",
    "HTTP_X_REAL_IP": CANARY_IP,
    "HTTP_FORWARDED": f"for={CANARY_IP}",
    "HTTP_USER_AGENT": CANARY_UA,
    "HTTP_SEC_CH_UA": f'"{CANARY_UA}";v="9"',
}


def record_text(record: logging.LogRecord) -> str:
    """A record as a handler would format it, plus every attribute it carries."""
    formatted = logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
    return formatted + " " + " ".join(repr(v) for v in vars(record).values())


def dump_database() -> dict[str, str]:
    """Every row of every table as text, sessions decoded (they are stored base64-signed)."""
    dump: dict[str, str] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - names from the schema
            rows = cursor.fetchall()
            dump[table] = "\n".join(" | ".join(_as_text(v) for v in row) for row in rows)
            if table == "django_session":
                dump[table] += "\n" + "\n".join(repr(SessionStore().decode(row[1])) for row in rows)
    return dump


def _as_text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def files_containing(roots: Iterable[Path], needles: Iterable[str]) -> list[str]:
    """Files (or files under directories) whose bytes contain any needle, UTF-8 or UTF-16."""
    patterns = [
        (needle, encoded)
        for needle in needles
        for encoded in (needle.encode(), needle.encode("utf-16-le"))
    ]
    hits = []
    for root in roots:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            data = path.read_bytes()
            hits += [f"{path}: {needle!r}" for needle, enc in patterns if enc in data]
    return sorted(set(hits))
