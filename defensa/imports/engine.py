"""The import engine: checks every row of a stored file, then (in the background) applies it.

`check` streams the file and yields each row's outcome in batches: new, existing, or
invalid (why). `preview` counts the whole file and keeps the first rows to show. `run` is the
background job: it applies new rows batch by batch (one transaction each, the job's counters
moving with it) and writes invalid rows to the encrypted error report.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from defensa.imports import reading, store
from defensa.imports.kinds import Kind, RowInvalid, kind_named
from defensa.imports.models import ImportJob

BATCH = 1000
NEW, EXISTING, INVALID = "new", "existing", "invalid"
PREVIEW_ROWS = 20


@dataclass
class Outcome:
    line: int
    status: str
    cells: list[str]
    cleaned: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def suggested_mapping(kind: Kind, header: list[str]) -> list[str]:
    """Our field for each column title the kind knows by name; "" (ignored) for the others."""
    taken: set[str] = set()
    found = []
    for title in header:
        wanted = title.strip().lower()
        key = next(
            (
                col.key
                for col in kind.columns
                if col.key not in taken
                and (wanted == col.key or wanted == str(col.label).lower() or wanted in col.aliases)
            ),
            "",
        )
        taken.add(key)
        found.append(key)
    return found


def mapping_problem(kind: Kind, header: list[str], mapping: list[str]) -> str | None:
    """Why this mapping cannot be used, or None."""
    keys = {col.key for col in kind.columns}
    if len(mapping) != len(header) or any(m and m not in keys for m in mapping):
        return _("Choose a field (or “ignore”) for every column.")
    chosen = [m for m in mapping if m]
    if len(chosen) != len(set(chosen)):
        return _("Each field can come from one column only.")
    return kind.check_mapping(set(chosen))


class _Seen:
    """Identities met so far in this file: a later row with one of them is refused."""

    def __init__(self) -> None:
        self.first: dict[str, tuple[int, bytes]] = {}

    def problem(self, line: int, identities: list[str], cleaned: dict[str, Any]) -> str:
        digest = hashlib.sha256(repr(sorted(cleaned.items())).encode()).digest()[:16]
        for identity in identities:
            earlier = self.first.get(identity)
            if earlier is not None:
                if earlier[1] == digest:
                    return _("Repeats line %(n)s, which is imported once.") % {"n": earlier[0]}
                return _(
                    "Line %(n)s has the same phone or email. A phone or email belongs to one "
                    "person: fix one of the two lines."
                ) % {"n": earlier[0]}
        for identity in identities:
            self.first[identity] = (line, digest)
        return ""


def check(job: ImportJob, decoder: reading.LineDecoder | None = None) -> Iterator[list[Outcome]]:
    """Every row's outcome, in batches of BATCH rows (raises reading.Unreadable)."""
    kind = kind_named(job.kind)
    found = reading.Shape(job.encoding, job.delimiter, list(job.header))
    mapping = list(job.mapping)
    width = len(mapping)
    seen = _Seen()
    batch: list[Outcome] = []
    for line, cells in reading.rows(store.read(job, store.UPLOAD), found, decoder):
        batch.append(_one(job, kind, seen, line, cells, mapping, width))
        if len(batch) >= BATCH:
            yield _matched(job, kind, batch)
            batch = []
    if batch:
        yield _matched(job, kind, batch)


def _one(
    job: ImportJob,
    kind: Kind,
    seen: _Seen,
    line: int,
    cells: list[str],
    mapping: list[str],
    width: int,
) -> Outcome:
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        reason = _("This line has %(n)s cells but the file has %(w)s columns.") % {
            "n": len(cells),
            "w": width,
        }
        return Outcome(line, INVALID, cells, reason=reason)
    if any(len(c) > reading.MAX_CELL for c in cells):
        return Outcome(line, INVALID, cells, reason=_("A cell on this line is far too long."))
    values = {
        key: (cells[i].strip() if i < len(cells) else "") for i, key in enumerate(mapping) if key
    }
    try:
        cleaned = kind.validate_row(job, values)
    except RowInvalid as refused:
        return Outcome(line, INVALID, cells, reason=refused.reason)
    problem = seen.problem(line, kind.identities(cleaned), cleaned)
    if problem:
        return Outcome(line, INVALID, cells, cleaned, problem)
    return Outcome(line, NEW, cells, cleaned)


def _matched(job: ImportJob, kind: Kind, batch: list[Outcome]) -> list[Outcome]:
    valid = [o for o in batch if o.status == NEW]
    for outcome, there in zip(
        valid, kind.match_existing(job, [o.cleaned for o in valid]), strict=True
    ):
        if there:
            outcome.status = EXISTING
    return batch


def count_rows(job: ImportJob) -> int:
    """How many data rows the file has (read, not checked): the progress bar's whole."""
    found = reading.Shape(job.encoding, job.delimiter, list(job.header))
    return sum(1 for _row in reading.rows(store.read(job, store.UPLOAD), found))


@dataclass
class Preview:
    total: int = 0
    new: int = 0
    existing: int = 0
    invalid: int = 0
    recoded: int = 0
    first: list[Outcome] = field(default_factory=list)
    first_invalid: list[Outcome] = field(default_factory=list)


def preview(job: ImportJob) -> Preview:
    """What importing the file would do, counted over the whole file; nothing is written."""
    result = Preview()
    decoder = reading.LineDecoder(job.encoding)
    for batch in check(job, decoder):
        for outcome in batch:
            result.total += 1
            setattr(result, outcome.status, getattr(result, outcome.status) + 1)
            if len(result.first) < PREVIEW_ROWS:
                result.first.append(outcome)
            if outcome.status == INVALID and len(result.first_invalid) < PREVIEW_ROWS:
                result.first_invalid.append(outcome)
    result.recoded = decoder.recoded
    return result


_PHONE_LIKE = re.compile(r"[+-][0-9 ().-]*")


def _inert(cell: str) -> str:
    """A cell a spreadsheet would run as a formula (=, @, or + and - before anything but a
    number) is written with a leading apostrophe, which spreadsheets show as text."""
    if cell[:1] in ("=", "@") or (cell[:1] in ("+", "-") and not _PHONE_LIKE.fullmatch(cell)):
        return "'" + cell
    return cell


def _report_line(outcome: Outcome) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([outcome.line, outcome.reason, *map(_inert, outcome.cells)])
    return buffer.getvalue().encode("utf-8")


def run(job: ImportJob) -> None:
    """Apply the file: new rows are written, existing ones left alone, invalid ones reported.

    Each batch is one transaction with the job's counters, so the progress page shows what
    is really written; a job stopped half-way and run again skips what it already wrote
    (those rows are found existing).
    """
    kind = kind_named(job.kind)
    decoder = reading.LineDecoder(job.encoding)
    report = store.Writer(job, store.ERRORS)
    head = io.StringIO()
    csv.writer(head).writerow([_("line"), _("why it was not imported"), *job.header])
    report.add(b"\xef\xbb\xbf" + head.getvalue().encode("utf-8"))
    done = new = existing = invalid = 0
    try:
        for batch in check(job, decoder):
            with transaction.atomic():
                fresh = [o.cleaned for o in batch if o.status == NEW]
                kind.apply_rows(job, fresh)
                new += len(fresh)
                for outcome in batch:
                    if outcome.status == EXISTING:
                        existing += 1
                    elif outcome.status == INVALID:
                        invalid += 1
                        report.add(_report_line(outcome))
                done += len(batch)
                ImportJob.objects.filter(pk=job.pk).update(
                    rows_done=done, rows_new=new, rows_existing=existing, rows_invalid=invalid
                )
    except BaseException:
        report.abandon()
        raise
    report.close()
    job.rows_done, job.rows_new, job.rows_existing, job.rows_invalid = done, new, existing, invalid
    job.lines_recoded = decoder.recoded
    job.has_error_report = invalid > 0
    job.finished_at = timezone.now()
    if not job.has_error_report:
        store.delete(job, store.ERRORS)
