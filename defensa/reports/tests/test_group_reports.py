"""manage.py group_reports: the offline interface to the live grouping code path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[3]


def line(rid: str, lat: float, lon: float, acc: float, when: str, **kw) -> str:  # type: ignore[no-untyped-def]
    item = {
        "id": rid,
        "lat": lat,
        "lon": lon,
        "accuracy_m": acc,
        "observed_at": when,
        "category": kw.get("category", "workplace_raid"),
        "text": kw.get("text", "agents at the warehouse"),
        "channel": kw.get("channel", "web"),
    }
    return json.dumps(item)


GOOD = [
    line("a", 34.0430, -118.2100, 20, "2026-06-10T08:00:00-07:00"),
    line("b", 34.0433, -118.2102, 35, "2026-06-10T08:06:00-07:00", channel="sms"),
    line("c", 34.0466, -118.2100, 20, "2026-06-10T08:02:00-07:00"),
    line("d", 34.0430, -118.2100, 20, "2026-06-10T13:00:00-07:00"),
    line("e", 34.0487, -118.2084, 2500, "2026-06-10T20:05:00Z", channel="operator"),
    line("f", 34.0431, -118.2101, 15, "2026-06-10T08:09:00-07:00", text="la migra ✊"),
]


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    def _run(lines: list[str]) -> tuple[subprocess.CompletedProcess, Path]:
        source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {
            **os.environ,
            "DEFENSA_DATA_DIR": str(tmp_path / "data"),
            # The configured database is unreachable: the run must not need it at all.
            "DATABASE_URL": "postgres://nobody@127.0.0.1:9/never",
        }
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "group_reports",
                "--input",
                str(source),
                "--output",
                str(target),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        return done, target

    return _run


def test_groups_in_file_order_without_touching_the_configured_database(run) -> None:  # type: ignore[no-untyped-def]
    done, target = run(GOOD)
    assert done.returncode == 0, done.stderr
    out = [json.loads(x) for x in target.read_text().splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d", "e", "f"]
    labels = [o["incident"] for o in out]
    # a, b, f: one raid; c: a raid 400 m away; d: the same place five hours later;
    # e: a ZIP-only report at the time of d, in the same ZIP.
    assert labels == ["I1", "I1", "I2", "I3", "I3", "I1"]
    # Deterministic: byte-identical output on a second run.
    first = target.read_bytes()
    done, target = run(GOOD)
    assert done.returncode == 0 and target.read_bytes() == first


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"id": "x"}), '"lat" is missing'),
        (line("x", 34.0, -118.0, 10, "2026-06-10T08:00:00"), "UTC offset"),
        (line("x", 34.0, -118.0, 10, "June 10"), "ISO-8601"),
        (line("x", 134.0, -118.0, 10, "2026-06-10T08:00:00Z"), "lat must be within"),
        (line("x", 34.0, -118.0, 10, "2026-06-10T08:00:00Z", category="riot"), "category"),
        (line("x", 34.0, -118.0, 10, "2026-06-10T08:00:00Z", channel="fax"), "channel"),
        (line("a", 34.0, -118.0, 10, "2026-06-10T08:00:00Z"), 'id "a" already used on line 1'),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_written(tmp_path: Path, bad: str, why: str) -> None:
    # In-process: every line is checked before the command opens any database.
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join([*GOOD[:2], bad, *GOOD[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("group_reports", "--input", str(source), "--output", str(target))
    assert "line 3" in str(caught.value) and why in str(caught.value), str(caught.value)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_a_bad_line_exits_non_zero(run) -> None:  # type: ignore[no-untyped-def]
    done, target = run([*GOOD[:3], "{oops"])
    assert done.returncode != 0
    assert "line 4: not valid JSON" in done.stderr
    assert not target.exists()
