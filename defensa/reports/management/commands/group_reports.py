"""Group a file of reports into incidents with the code path live intake uses.

The run uses a private in-memory SQLite database (defensa/reports/scratch.py): the configured
database is never written, so real data cannot be touched. Reports are processed in file
order through `receive_report()`. Incidents are labelled I1, I2, ... in the order they first
appear, so the same input gives byte-identical output.

With `--suggestions PATH`, the near misses the console would offer as "maybe the same as ..."
(defensa/incidents/grouping.py) go to PATH, one JSON line per pair of incident labels.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from defensa.reports.actions import InvalidReport, clean_report_data, receive_report
from defensa.reports.models import Channel, LocationKind

FIELDS = {
    "id": str,
    "lat": (int, float),
    "lon": (int, float),
    "accuracy_m": (int, float),
    "observed_at": str,
    "category": str,
    "text": str,
    "channel": str,
}


def parse_line(raw: str) -> tuple[str, str, dict[str, Any]]:
    """(id, channel, report data) from one JSON line; ValueError says what is wrong."""
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(item, dict):
        raise ValueError("not a JSON object")
    for name, kind in FIELDS.items():
        if name not in item:
            raise ValueError(f'"{name}" is missing')
        value = item[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ValueError(f'"{name}" has the wrong type')
    if not item["id"]:
        raise ValueError('"id" is empty')
    if item["channel"] not in Channel.values:
        raise ValueError(f'"channel" must be one of {", ".join(Channel.values)}')
    try:
        observed_at = dt.datetime.fromisoformat(item["observed_at"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError('"observed_at" is not an ISO-8601 date and time') from exc
    if observed_at.tzinfo is None:
        raise ValueError('"observed_at" needs a UTC offset')
    data = {
        "category": item["category"],
        "lat": item["lat"],
        "lon": item["lon"],
        "precision_m": item["accuracy_m"],
        "location_kind": LocationKind.GPS,
        "observed_at": observed_at,
        "description": item["text"][:2000],
    }
    try:
        clean_report_data(data)
    except InvalidReport as exc:
        raise ValueError(str(exc)) from exc
    return item["id"], item["channel"], data


class Command(BaseCommand):
    help = "Group a JSONL file of reports into incidents, exactly as live intake would."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, type=Path)
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument("--suggestions", type=Path, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["input"]
        target: Path = options["output"]
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {source}: {exc}") from exc

        # Check every line before grouping anything: a bad file writes nothing at all.
        parsed: list[tuple[str, str, dict[str, Any]]] = []
        seen: dict[str, int] = {}
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                rid, channel, data = parse_line(raw)
            except ValueError as exc:
                raise CommandError(f"{source}: line {number}: {exc}") from exc
            if rid in seen:
                raise CommandError(
                    f'{source}: line {number}: id "{rid}" already used on line {seen[rid]}'
                )
            seen[rid] = number
            parsed.append((rid, channel, data))

        from defensa.reports.scratch import use_memory_database

        use_memory_database()
        labels: dict[int, str] = {}
        out: list[str] = []
        for rid, channel, data in parsed:
            report = receive_report(
                data, channel=channel, idempotency_key=f"group_reports:{rid}"
            ).report
            label = labels.setdefault(report.incident_id, f"I{len(labels) + 1}")
            out.append(json.dumps({"id": rid, "incident": label}, ensure_ascii=False))

        _write(target, out)
        self.stderr.write(f"{len(out)} reports, {len(labels)} incidents -> {target}")
        if options["suggestions"] is not None:
            pairs = _near_misses(labels)
            _write(options["suggestions"], [json.dumps(pair) for pair in pairs])
            self.stderr.write(f"{len(pairs)} suggestions -> {options['suggestions']}")


def _near_misses(labels: dict[int, str]) -> list[list[str]]:
    """Every pair of incidents the console would suggest as maybe one, by label, sorted."""
    from defensa.incidents import grouping
    from defensa.incidents.models import Incident

    located = [
        grouping.Candidate.of(i)
        for i in Incident.objects.filter(pk__in=labels, lat__isnull=False).order_by("pk")
    ]
    found = grouping.near_misses(located, located, grouping.Rules.from_settings())
    pairs = {tuple(sorted((labels[a], labels[b]), key=_label_key)) for a, (b, _r) in found.items()}
    return [list(pair) for pair in sorted(pairs, key=lambda p: tuple(map(_label_key, p)))]


def _label_key(label: str) -> int:
    return int(label[1:])


def _write(target: Path, lines: list[str]) -> None:
    """Write beside the target, then rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
