"""Backups in the object store (issue 18): `backup` puts the age-encrypted backup in a bucket
of its own (DEFENSA_S3_BACKUP_BUCKET), `restore --from-object-store` reads it back.

Against moto's S3 server on loopback. The round trip runs two installs as child processes
(SQLite, then PostgreSQL), as test_backup.py does with files; the refusals run in-process.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import pyrage
import pytest
from django.core.management import CommandError, call_command

from defensa.core.crypto.keys import generate_entry
from defensa.core.crypto.tests.scratch import install_env, migrate, scratch_pg
from defensa.core.crypto.tests.seed_canaries import CONTROL
from defensa.core.crypto.tests.test_backup import READ, SEED, shell
from defensa.core.object_store import s3_media_storage
from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_NEEDLES, CANARY_PHONE
from defensa.core.tests.proc import manage
from defensa.testing.peers import s3

BACKUPS = "defensa-backups"


def _backups(peer: s3.S3Peer) -> dict[str, bytes]:
    client = peer.client()
    listed = client.list_objects_v2(Bucket=BACKUPS).get("Contents", [])
    return {
        o["Key"]: client.get_object(Bucket=BACKUPS, Key=o["Key"])["Body"].read() for o in listed
    }


@pytest.fixture
def backup_bucket(s3_peer: s3.S3Peer, settings) -> s3.S3Peer:  # type: ignore[no-untyped-def]
    s3_peer.client().create_bucket(Bucket=BACKUPS)
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": s3_media_storage(
            bucket=BACKUPS,
            endpoint_url=s3_peer.base_url,
            access_key=s3.ACCESS_KEY,
            secret_key=s3.SECRET_KEY,
            region=s3.REGION,
            timeout_s=2,
        ),
    }
    return s3_peer


@pytest.mark.django_db
def test_a_backup_goes_to_its_own_bucket_encrypted(backup_bucket, tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    identity = pyrage.x25519.Identity.generate()
    settings.MEDIA_ROOT = tmp_path / "media"
    out = io.StringIO()
    call_command("backup", "--recipient", str(identity.to_public()), stdout=out)
    stored = _backups(backup_bucket)
    assert len(stored) == 1
    ((name, blob),) = stored.items()
    assert re.fullmatch(r"defensa-backup-\d{8}T\d{6}Z\.age", name) and name in out.getvalue()
    assert blob.startswith(b"age-encryption.org/v1")
    with tarfile.open(fileobj=io.BytesIO(pyrage.decrypt(blob, [identity]))) as tar:
        assert {"manifest.json", "data.json", "signature.json"} <= set(tar.getnames())
    # Not in the files' bucket: a backup never holds the backups before it.
    assert not any(key.startswith("defensa-backup-") for key in backup_bucket.objects())
    # A file and the store at once.
    call_command(
        "backup", str(tmp_path / "b.age"), "--to-object-store",
        "--recipient", str(identity.to_public()), stdout=io.StringIO(),
    )  # fmt: skip
    assert (tmp_path / "b.age").read_bytes().startswith(b"age-encryption.org/v1")


@pytest.mark.django_db
def test_without_a_bucket_or_with_the_store_down_the_backup_says_so(
    backup_bucket, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    public = str(pyrage.x25519.Identity.generate().to_public())
    settings.MEDIA_ROOT = tmp_path / "media"
    backup_bucket.stop()
    # The whole store down: the files cannot be read, so there is no backup to put.
    with pytest.raises(CommandError, match="file store could not be read"):
        call_command("backup", "--recipient", public, stdout=io.StringIO())
    # The files on this machine's disk, the backups' bucket unreachable.
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    with pytest.raises(CommandError, match="did not take the backup"):
        call_command("backup", "--recipient", public, stdout=io.StringIO())
    settings.STORAGES = {k: v for k, v in settings.STORAGES.items() if k != "backups"}
    with pytest.raises(CommandError, match="DEFENSA_S3_BACKUP_BUCKET"):
        call_command("backup", "--recipient", public, stdout=io.StringIO())
    with pytest.raises(CommandError, match="DEFENSA_S3_BACKUP_BUCKET"):
        call_command("backup", str(tmp_path / "x.age"), "--to-object-store", "--recipient", public)
    assert not (tmp_path / "x.age").exists()


def _round_trip(tmp_path: Path, src_url: str = "", dst_url: str = "") -> None:
    master = generate_entry("k1")
    identity = pyrage.x25519.Identity.generate()
    (tmp_path / "id.txt").write_text(f"{identity}\n")
    with s3.S3Peer().running() as peer:
        peer.client().create_bucket(Bucket=BACKUPS)
        store = {
            "DEFENSA_S3_BACKUP_BUCKET": BACKUPS,
            "DEFENSA_S3_ENDPOINT_URL": peer.base_url,
            "DEFENSA_S3_ACCESS_KEY_ID": s3.ACCESS_KEY,
            "DEFENSA_S3_SECRET_ACCESS_KEY": s3.SECRET_KEY,
            "DEFENSA_S3_REGION": s3.REGION,
        }
        src = install_env(tmp_path / "src", src_url, DEFENSA_MASTER_KEYS=master, **store)
        migrate(src)
        shell(src, SEED % ("secret", "media"))
        done = manage(src, "backup", "--recipient", str(identity.to_public()))
        assert done.returncode == 0, done.stderr
        name = done.stdout.strip().rsplit(" ", 1)[-1]
        blob = _backups(peer)[name]
        for needle in (*CANARY_NEEDLES, CONTROL, "JPEGDATA"):
            assert needle.encode() not in blob

        # Another machine, another disk: the backup comes from the store.
        dst = install_env(tmp_path / "dst", dst_url, DEFENSA_MASTER_KEYS=master, **store)
        migrate(dst)
        missing = manage(
            dst, "restore", "--from-object-store", "defensa-backup-none.age",
            "--identity", str(tmp_path / "id.txt"),
        )  # fmt: skip
        assert missing.returncode != 0 and "no backup named" in missing.stderr
        done = manage(
            dst, "restore", "--from-object-store", name, "--identity", str(tmp_path / "id.txt")
        )
        assert done.returncode == 0, done.stderr
    restored = json.loads(shell(dst, READ).strip().splitlines()[-1])
    assert {CANARY_PHONE, CANARY_A_NUMBER} <= {v for k, v in restored.items() if k.isdigit()}
    assert CONTROL in restored["descriptions"]
    assert restored["media"] == "JPEGDATA-media"
    assert restored["SHRED1"] == "SHREDDED"


@pytest.mark.own_databases
def test_backup_to_the_object_store_and_restore_from_it_on_sqlite(tmp_path: Path) -> None:
    _round_trip(tmp_path)


@pytest.mark.own_databases
def test_backup_to_the_object_store_and_restore_from_it_on_postgresql(tmp_path: Path) -> None:
    with scratch_pg("defensa_bks_src") as src, scratch_pg("defensa_bks_dst") as dst:
        _round_trip(tmp_path, src, dst)
