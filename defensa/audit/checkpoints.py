"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "at time T the chain's head was entry #N with hash H", signed with an HMAC
under a key derived from the current master key (never stored). Checkpoints are appended to
a file beside the data (settings.AUDIT_CHECKPOINT_FILE, `audit-checkpoints.log` in
DEFENSA_DATA_DIR), sent to the network administrators once a day, and printed on the
incident record. `verify_audit` compares the chain with every one of them:

- the head behind a checkpoint's entry: the newest entries were removed (truncation);
- an entry whose hash differs from its checkpoint's: the chain was rewritten;
- an unkeyed entry after the keying boundary a checkpoint recorded: rewritten as "old".

One line per checkpoint, as text (`ckpt1:SEQ:HASH:AT:KEY:LEGACY:PREV:MAC`): AT is Unix time,
KEY the master key id, LEGACY the last entry written before keying, PREV the start of the
previous line's MAC (so a line removed from the middle shows), MAC the signature of the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from defensa.audit.log import GENESIS, ChainReport, walk_chain
from defensa.audit.models import AuditEntry
from defensa.core.crypto.keys import UnknownMasterKey, derived_key

CHECKPOINT_PURPOSE = "audit.checkpoint"
PREFIX = "ckpt1"
_PREV_CHARS = 16
_LINE = re.compile(
    r"^ckpt1:(\d{1,19}):([0-9a-f]{64}):(\d{1,12}):([A-Za-z0-9_.-]{1,32}):(\d{1,19})"
    r":([0-9a-f]{16}|-):([0-9a-f]{64})$"
)


class CheckpointRefused(Exception):
    """The head does not verify: a checkpoint would vouch for a broken chain."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"audit entry #{seq} does not verify, or is gone")
        self.seq = seq


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: int
    key_id: str
    legacy: int
    prev: str  # the first characters of the previous line's MAC, or "-" for the first line
    mac: str = ""

    def body(self) -> str:
        return f"{PREFIX}:{self.seq}:{self.hash}:{self.at}:{self.key_id}:{self.legacy}:{self.prev}"

    def line(self) -> str:
        return f"{self.body()}:{self.mac}"

    @property
    def when(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.at, tz=dt.UTC)

    def expected_mac(self) -> str:
        """Raises UnknownMasterKey when the checkpoint's master key is not configured."""
        _id, key = derived_key(CHECKPOINT_PURPOSE, self.key_id)
        return hmac.new(key, self.body().encode(), hashlib.sha256).hexdigest()

    def signed(self) -> Checkpoint:
        return Checkpoint(**{**self.__dict__, "mac": self.expected_mac()})

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        found = _LINE.match(text.strip())
        if found is None:
            raise ValueError("not a checkpoint line (ckpt1:SEQ:HASH:AT:KEY:LEGACY:PREV:MAC)")
        seq, digest, at, key_id, legacy, prev, mac = found.groups()
        return cls(int(seq), digest, int(at), key_id, int(legacy), prev, mac)


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def read_checkpoints(path: Path | None = None) -> tuple[list[Checkpoint], list[str]]:
    """The file's checkpoints, and a problem for each line that is not one."""
    path = path or checkpoint_path()
    found: list[Checkpoint] = []
    problems: list[str] = []
    if not path.exists():
        return found, problems
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            found.append(Checkpoint.parse(text))
        except ValueError:
            problems.append(f"line {number} of {path.name} is not a checkpoint")
    return found, problems


def latest_checkpoint(path: Path | None = None) -> Checkpoint | None:
    found, _problems = read_checkpoints(path)
    return found[-1] if found else None


def _legacy_boundary(previous: Checkpoint | None) -> int:
    if previous is not None:
        return previous.legacy
    last = AuditEntry.objects.filter(key_id="").order_by("-seq").values_list("seq", flat=True)
    return last.first() or 0


def write_checkpoint(*, now: dt.datetime | None = None, path: Path | None = None) -> Checkpoint:
    """Append a signed checkpoint of the current head (unless the last one already is it).

    Returns the checkpoint for the current head. Every entry since the previous checkpoint
    is checked first (links, digests, MACs): a checkpoint never vouches for an entry written
    without the chain key. Raises CheckpointRefused naming the first bad one.
    """
    path = path or checkpoint_path()
    found, _problems = read_checkpoints(path)
    previous = found[-1] if found else None
    head = AuditEntry.objects.order_by("-seq").first()
    seq, digest = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if previous is not None and (previous.seq, previous.hash) == (seq, digest):
        return previous
    if previous is not None and previous.seq:
        # The chain must still reach the last checkpoint (not truncated, not rewritten).
        anchor = AuditEntry.objects.filter(seq=previous.seq).values_list("hash", flat=True)
        if anchor.first() != previous.hash:
            raise CheckpointRefused(previous.seq)
    since = walk_chain(
        legacy_until=previous.legacy if previous is not None else None,
        after=(previous.seq, previous.hash) if previous is not None else (0, GENESIS),
    )
    if since.bad is not None:
        raise CheckpointRefused(since.bad.seq)
    now = now or timezone.now()
    checkpoint = Checkpoint(
        seq=seq,
        hash=digest,
        at=int(now.timestamp()),
        key_id=derived_key(CHECKPOINT_PURPOSE)[0],
        legacy=_legacy_boundary(previous),
        prev=previous.mac[:_PREV_CHARS] if previous is not None else "-",
    ).signed()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Append only; the file is created private. On a server, `chattr +a` makes the kernel
    # refuse anything but appends, even to this process (docs/security-operations.md).
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(checkpoint.line() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return checkpoint


@dataclass
class Verdict:
    """The chain against its key and every checkpoint."""

    chain: ChainReport
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    latest: Checkpoint | None = None

    @property
    def intact(self) -> bool:
        return self.chain.intact and not self.problems


def verify(*, path: Path | None = None, extra: list[Checkpoint] | None = None) -> Verdict:
    """Check the chain (links, digests, MACs) and compare it with every checkpoint: the file's
    and `extra` ones (from an administrator's email or a printed record)."""
    path = path or checkpoint_path()
    from_file, problems = read_checkpoints(path)
    notes: list[str] = []
    signed: list[Checkpoint] = []
    previous: Checkpoint | None = None
    for number, checkpoint in enumerate(from_file, start=1):
        expected_prev = previous.mac[:_PREV_CHARS] if previous is not None else "-"
        if checkpoint.prev != expected_prev:
            problems.append(
                f"checkpoint {number} does not follow the one before it: a checkpoint was "
                "removed or the file was spliced"
            )
        if previous is not None and checkpoint.seq < previous.seq:
            problems.append(f"checkpoint {number} goes back to entry #{checkpoint.seq}")
        previous = checkpoint
    for origin, checkpoint in [("file", c) for c in from_file] + [
        ("given", c) for c in extra or []
    ]:
        try:
            good = hmac.compare_digest(checkpoint.expected_mac(), checkpoint.mac)
        except UnknownMasterKey:
            notes.append(
                f"checkpoint of #{checkpoint.seq} ({origin}) is signed under master key "
                f"{checkpoint.key_id!r}, which is not configured: its signature is unchecked"
            )
            good = True  # still compared with the chain below: it can only add problems
        if not good:
            problems.append(
                f"checkpoint of #{checkpoint.seq} ({origin}) has a bad signature: forged or altered"
            )
            continue
        signed.append(checkpoint)
    legacy_until = min((c.legacy for c in signed), default=None)
    chain = walk_chain(legacy_until=legacy_until, want={c.seq for c in signed})
    for checkpoint in signed:
        if checkpoint.seq == 0:
            continue
        when = checkpoint.when.strftime("%Y-%m-%d %H:%M UTC")
        if chain.bad is not None and checkpoint.seq >= chain.bad.seq:
            continue  # the chain is already reported broken at or before this entry
        if checkpoint.seq > chain.head_seq:
            problems.append(
                f"truncated: the newest entry is #{chain.head_seq}, but a checkpoint of {when} "
                f"saw entry #{checkpoint.seq}"
            )
        elif chain.hashes.get(checkpoint.seq) != checkpoint.hash:
            problems.append(
                f"rewritten: entry #{checkpoint.seq} is not the one a checkpoint of {when} saw"
            )
    if not from_file:
        notes.append(
            f"no checkpoint in {path.name}: removing the newest entries cannot be detected "
            "(scripts/serve writes checkpoints; `manage.py audit_checkpoint` writes one now)"
        )
    return Verdict(
        chain=chain,
        checkpoints=len(signed),
        problems=problems,
        notes=notes,
        latest=from_file[-1] if from_file else None,
    )
