"""Encrypted backups (property 22): restore into a scratch database and find the data intact;
unreadable without the identity; a key shredded before the backup stays shredded.

Each install is a child process with its own data directory (SQLite file) or its own
PostgreSQL database.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pyrage
import pytest

from defensa.core.crypto.keys import generate_entry
from defensa.core.crypto.tests.scratch import install_env, migrate, scratch_pg
from defensa.core.crypto.tests.seed_canaries import CONTROL
from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_NEEDLES, CANARY_PHONE
from defensa.core.tests.proc import PYTHON, REPO, manage

# Its own installs, SQLite and PostgreSQL, in child processes: run once, not in both phases.
pytestmark = pytest.mark.own_databases

SEED = """
from defensa.core.crypto.tests.seed_canaries import seed
from defensa.core import crypto
from defensa.reports.models import Report
from pathlib import Path
from django.conf import settings
pks = seed()
shred_me = Report.objects.create(reference="SHRED1", channel="web", category="sighting",
    observed_at=Report.objects.get(pk=pks[0]).observed_at, idempotency_key="x" * 64,
    incident=Report.objects.get(pk=pks[0]).incident)
crypto.seal(shred_me, "contact", "gone-" + "%s")
shred_me.save()
crypto.shred(shred_me.data_key)
media = Path(settings.MEDIA_ROOT) / "reports"
media.mkdir(parents=True, exist_ok=True)
(media / "photo.jpg").write_bytes(("JPEGDATA-" + "%s").encode())
"""

READ = """
import json
from defensa.core import crypto
from defensa.reports.models import Report
from pathlib import Path
from django.conf import settings
out = {}
for r in Report.objects.order_by("pk"):
    try:
        out[r.reference if r.reference == "SHRED1" else str(r.pk)] = crypto.unseal(r, "contact")
    except crypto.KeyShredded:
        out[r.reference] = "SHREDDED"
    except crypto.WrongKey:
        out[str(r.pk)] = "WRONGKEY"
out["descriptions"] = list(Report.objects.values_list("description", flat=True))
out["media"] = (Path(settings.MEDIA_ROOT) / "reports" / "photo.jpg").read_bytes().decode()
print(json.dumps(out))
"""


def shell(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def round_trip(tmp_path: Path, src_url: str = "", dst_url: str = "") -> None:
    master = generate_entry("k1")
    identity = pyrage.x25519.Identity.generate()
    (tmp_path / "id.txt").write_text(f"# operator key\n{identity}\n")
    src = install_env(tmp_path / "src", src_url, DEFENSA_MASTER_KEYS=master)
    migrate(src)
    shell(src, SEED % ("secret", "media"))
    out = tmp_path / "backup.age"
    done = manage(src, "backup", str(out), "--recipient", str(identity.to_public()))
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o077 == 0
    blob = out.read_bytes()
    assert blob.startswith(b"age-encryption.org/v1")
    # Nothing readable inside: not the control value of a plain column, not the media.
    for needle in (*CANARY_NEEDLES, CONTROL, "JPEGDATA"):
        assert needle.encode() not in blob
    # Without the identity (another operator's key) it does not open.
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(blob, [pyrage.x25519.Identity.generate()])

    dst = install_env(tmp_path / "dst", dst_url, DEFENSA_MASTER_KEYS=master)
    migrate(dst)
    wrong = manage(dst, "restore", str(out), "--identity", str(tmp_path / "other.txt"))
    assert wrong.returncode != 0
    (tmp_path / "other.txt").write_text(str(pyrage.x25519.Identity.generate()))
    wrong = manage(dst, "restore", str(out), "--identity", str(tmp_path / "other.txt"))
    assert wrong.returncode != 0 and "does not open" in wrong.stderr
    done = manage(dst, "restore", str(out), "--identity", str(tmp_path / "id.txt"))
    assert done.returncode == 0, done.stderr
    restored = json.loads(shell(dst, READ).strip().splitlines()[-1])
    values = {v for k, v in restored.items() if k.isdigit()}
    assert {CANARY_PHONE, CANARY_A_NUMBER} <= values
    assert CONTROL in restored["descriptions"]
    assert restored["media"] == "JPEGDATA-media"
    # Shredded before the backup: shredded in the restored copy too.
    assert restored["SHRED1"] == "SHREDDED"
    # The audit chain survives intact.
    assert manage(dst, "verify_audit").returncode == 0
    # Restoring twice is refused: only into an empty database.
    again = manage(dst, "restore", str(out), "--identity", str(tmp_path / "id.txt"))
    assert again.returncode != 0 and "not empty" in again.stderr

    # Issue 9, point 13: backups are signed by the server. Anyone with an operator's public
    # key can make an age file; a changed or forged one is refused before anything is loaded.
    forged = _forge(blob, identity, tmp_path)
    for name, why in (("changed", "does not match"), ("unsigned", "not signed")):
        refused = manage(dst, "restore", str(forged[name]), "--identity", str(tmp_path / "id.txt"))
        assert refused.returncode != 0 and why in refused.stderr, refused.stderr
    # An old, unsigned backup passes only when the operator says so (then: "not empty" here).
    legacy = manage(
        dst, "restore", str(forged["legacy"]), "--identity", str(tmp_path / "id.txt"),
        "--accept-unsigned",
    )  # fmt: skip
    assert legacy.returncode != 0 and "not empty" in legacy.stderr

    # The master key is not in the backup: elsewhere, without it, the signature cannot even be
    # checked and nothing is restored.
    other = install_env(tmp_path / "other", "", DEFENSA_MASTER_KEYS=generate_entry("k1"))
    migrate(other)
    elsewhere = manage(other, "restore", str(out), "--identity", str(tmp_path / "id.txt"))
    assert elsewhere.returncode != 0 and "signature" in elsewhere.stderr
    count = "from defensa.reports.models import Report; print(Report.objects.count())"
    assert shell(other, count).strip().splitlines()[-1] == "0"


def _forge(blob: bytes, identity, tmp_path: Path) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """What someone holding the backup, the identity and only public keys could make."""
    raw = pyrage.decrypt(blob, [identity])
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]  # type: ignore[union-attr]
    changed = [
        (n, d.replace(CONTROL.encode(), b"planted") if n == "data.json" else d) for n, d in members
    ]
    assert changed != members
    unsigned = [m for m in members if m[0] != "signature.json"]
    legacy = [
        (n, json.dumps({**json.loads(d), "format": 1}).encode() if n == "manifest.json" else d)
        for n, d in unsigned
    ]
    found = {}
    for name, content in (("changed", changed), ("unsigned", unsigned), ("legacy", legacy)):
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            for member, data in content:
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        path = tmp_path / f"{name}.age"
        path.write_bytes(pyrage.encrypt(out.getvalue(), [identity.to_public()]))
        found[name] = path
    return found


def test_backup_and_restore_on_sqlite(tmp_path: Path) -> None:
    round_trip(tmp_path)


def test_backup_and_restore_on_postgresql(tmp_path: Path) -> None:
    with scratch_pg("defensa_bk_src") as src, scratch_pg("defensa_bk_dst") as dst:
        round_trip(tmp_path, src, dst)
