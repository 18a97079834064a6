"""Spreadsheets of made-up people, for the import tests, journeys and benchmark.

Phones have the shape of real Los Angeles numbers (phonenumbers accepts them); they are only
ever sent to the loopback peers.
"""

from __future__ import annotations

from collections.abc import Iterator

ZIPS = ("90033", "90022", "90063", "90006", "90057", "90011", "90003", "90255")
HEADER = "Nombre,Teléfono,Correo,Idioma,ZIP,Notas\n"


def phone(n: int) -> str:
    return f"(213) {200 + n // 10000 % 800:03d}-{n % 10000:04d}"


def member_lines(rows: int, *, invalid_every: int = 0, start: int = 0) -> Iterator[str]:
    """CSV lines (header first) of `rows` people; every `invalid_every`-th row is invalid in
    one of three ways (bad phone, bad ZIP, no phone nor email)."""
    yield HEADER
    for i in range(start, start + rows):
        name, tel, mail = f"Persona {i}", phone(i), f"persona{i}@example.org"
        lang, zip_code = ("es" if i % 2 else "en"), ZIPS[i % len(ZIPS)]
        if invalid_every and i % invalid_every == invalid_every - 1:
            kind = (i // invalid_every) % 3
            if kind == 0:
                tel = "12345"
            elif kind == 1:
                zip_code = "00000"
            else:
                tel = mail = ""
        yield f"{name},{tel},{mail},{lang},{zip_code},nota {i}\n"


def member_csv(rows: int, *, invalid_every: int = 0, encoding: str = "utf-8") -> bytes:
    return "".join(member_lines(rows, invalid_every=invalid_every)).encode(encoding)
