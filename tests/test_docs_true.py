"""The docs describe what exists: no stale "not built yet", no link to a file that is not there.

Limitations are written as what the software does not do ("Limits"), never as a promise tied to
an issue number that a reader cannot see and that goes stale the day the work lands.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "bench" / "RESULTS.md"])

STALE = re.compile(
    r"not (?:yet )?built(?: yet)?|not yet (?:exist|implemented|available)|until issue|"
    r"\bissue \d+|\bthe [\w-]+ issue\b|coming soon|\bTODO\b|\bTBD\b",
    re.IGNORECASE,
)
# [text](target) links, not images of external pages (there are none: no third-party requests).
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _stale_lines(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if STALE.search(line):
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_the_pattern_catches_what_it_is_for() -> None:
    for phrase in ["What is not built yet", "parts of issue 3 that are", "(issue 5)", "TODO"]:
        assert STALE.search(phrase), phrase
    assert not STALE.search("What it does not do")


def test_no_doc_promises_what_already_exists() -> None:
    stale = [line for path in DOCS if path.name != "RESULTS.md" for line in _stale_lines(path)]
    assert not stale, "stale phrases in the docs:\n" + "\n".join(stale)


def test_every_relative_link_points_at_a_file_that_exists() -> None:
    assert len(DOCS) > 10
    broken = []
    for path in DOCS:
        for target in LINK.findall(path.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            file_part = target.split("#", 1)[0]
            if not (path.parent / file_part).exists():
                broken.append(f"{path.relative_to(ROOT)} -> {target}")
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)


def test_every_backquoted_project_path_exists() -> None:
    """`defensa/...`, `docs/...`, `bench/...` and `scripts/...` paths named in the docs exist."""
    missing = []
    pattern = re.compile(r"`((?:defensa|docs|bench|scripts)/[A-Za-z0-9_./-]+)`")
    for path in DOCS:
        for named in pattern.findall(path.read_text()):
            candidate = ROOT / named.rstrip("/")
            if "*" in named or "<" in named:
                continue
            if not candidate.exists():
                missing.append(f"{path.relative_to(ROOT)} -> {named}")
    assert not missing, "paths named in the docs that do not exist:\n" + "\n".join(missing)
