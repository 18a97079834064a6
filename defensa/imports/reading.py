"""Bytes of a spreadsheet export -> rows of text, streamed.

Spreadsheets export CSV in UTF-8 (with or without a byte-order mark), UTF-16 (Excel's
"Unicode text"), Windows-1252 or Latin-1, separated by commas or semicolons (Spanish- and
French-language spreadsheets use semicolons). We read:

- UTF-16 when the file starts with its byte-order mark or looks like it (every other byte 0);
- otherwise line by line: a line that is valid UTF-8 is read as UTF-8, any other as
  Windows-1252 (Latin-1 for the five bytes Windows-1252 leaves undefined). A file pasted
  together from two exports (mixed encodings) is read right on every line, and counted.

Nothing here holds more than one line (or one 64 KiB chunk) at a time.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# A cell longer than this is not a name or a phone number: the row is refused.
MAX_CELL = 2000
MAX_COLUMNS = 60
DELIMITERS = (",", ";", "\t")


class Unreadable(Exception):
    """The file cannot be read as a spreadsheet; the message says why, for people."""


@dataclass
class Shape:
    encoding: str  # "utf-8", "utf-8-sig", "utf-16"
    delimiter: str
    header: list[str]


def _looks_utf16(head: bytes) -> bool:
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return True
    sample = head[:200]
    return len(sample) >= 4 and sample.count(0) * 3 >= len(sample)


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _looks_utf16(head):
        return "utf-16"
    return "utf-8"


class LineDecoder:
    """Decodes a stream of byte chunks into text lines (ends kept), counting recoded lines."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.recoded = 0

    def lines(self, chunks: Iterable[bytes]) -> Iterator[str]:
        if self.encoding == "utf-16":
            yield from self._utf16(chunks)
            return
        first = True
        pending = b""
        for chunk in chunks:
            if first and self.encoding == "utf-8-sig" and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
            first = False
            pending += chunk
            *whole, pending = pending.split(b"\n")
            for raw in whole:
                yield self._line(raw + b"\n")
        if pending:
            yield self._line(pending)

    def _line(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.recoded += 1
            return (
                raw.decode("cp1252", errors="strict") if _cp1252_ok(raw) else raw.decode("latin-1")
            )

    def _utf16(self, chunks: Iterable[bytes]) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-16")(errors="strict")
        pending = ""
        try:
            for chunk in chunks:
                pending += decoder.decode(chunk)
                *whole, pending = pending.split("\n")
                for line in whole:
                    yield line + "\n"
            pending += decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise Unreadable(
                _("The file says it is UTF-16 but is not readable as UTF-16.")
            ) from None
        if pending:
            yield pending


_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


def _cp1252_ok(raw: bytes) -> bool:
    return not any(b in _CP1252_UNDEFINED for b in raw)


def _text_or_refuse(line: str) -> None:
    if "\x00" in line or sum(1 for ch in line if ch < " " and ch not in "\t\r\n") > 2:
        raise Unreadable(
            _("This does not look like a spreadsheet (CSV) file. Save it as CSV and try again.")
        )


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _reader(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    def checked() -> Iterator[str]:
        for line in lines:
            _text_or_refuse(line)
            yield line

    return csv.reader(checked(), delimiter=delimiter, strict=False)


def shape(chunks: Iterable[bytes]) -> Shape:
    """Encoding, delimiter and column titles, from the first line of the file."""
    iterator = iter(chunks)
    head = next(iterator, b"")
    if not head.strip(b"\r\n\t \xef\xbb\xbf\xff\xfe\x00"):
        raise Unreadable(_("The file is empty."))
    encoding = detect_encoding(head)
    decoder = LineDecoder(encoding)
    lines = decoder.lines([head, *iterator])
    first = next(lines, "")
    _text_or_refuse(first)
    delimiter = sniff_delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter), [])
    header = [title.strip() for title in header]
    if not any(header):
        raise Unreadable(_("The first line should name the columns, but it is empty."))
    if len(header) > MAX_COLUMNS:
        raise Unreadable(
            _("The file has more than %(n)s columns. Keep only the ones to import.")
            % {"n": MAX_COLUMNS}
        )
    rows_seen = 0
    for line in lines:  # the whole file once: binary junk further down is refused now
        _text_or_refuse(line)
        rows_seen += bool(line.strip(f' \t\r\n"{delimiter}'))  # ",,," is a blank row
    if not rows_seen:
        raise Unreadable(_("The file has column titles but no rows of people under them."))
    return Shape(encoding=encoding, delimiter=delimiter, header=header)


def rows(
    chunks: Iterable[bytes], found: Shape, decoder: LineDecoder | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every data row after the header; blank lines skipped.

    Raises Unreadable on binary content. A row with more cells than the header has is passed
    on as it is: the caller refuses it with a reason.
    """
    decoder = decoder or LineDecoder(found.encoding)
    reader = _reader(decoder.lines(chunks), found.delimiter)
    try:
        next(reader, None)  # the header
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            yield reader.line_num, cells
    except csv.Error:
        raise Unreadable(
            _("The file could not be read as CSV after line %(n)s.") % {"n": reader.line_num}
        ) from None
