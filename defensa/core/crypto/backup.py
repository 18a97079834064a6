"""Encrypted backups (security property 22), in the age format.

A backup is a tar archive (manifest.json, data.json from dumpdata, media/...) encrypted with
age to one or more operators' public keys (`age1...`). The private key never has to be on the
server: `age -d -i key.txt backup.age | tar x` works offline, and `manage.py restore` takes
it with --identity on the machine being restored.

Data keys are in the backup only wrapped by the master key, which is not in it: restoring
needs the master key too (DEFENSA_MASTER_KEYS), and a key shredded before the backup was
taken is not in it at all. Sessions are left out (a restore signs everyone out); content
types and permissions are recreated by `migrate`.

Signed by the server (format 2): age encrypts to public keys, so anyone who has an operator's
public key can make a file that decrypts; a forged backup could plant an administrator. The
last member, signature.json, is an HMAC-SHA256 over every other member's name and SHA-256,
under a key derived (HKDF) from the current master key, which a restore needs anyway.
`restore` refuses a backup whose signature is missing or wrong before it touches the
database. Whoever holds the master key (the server itself) can still sign: this stops a
forgery by someone who holds only the backups or the public keys.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

import pyrage
from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.db import connection

from defensa.core import media
from defensa.core.crypto.keys import master_keys

FORMAT = 2  # 1: before backups were signed (restored only with accept_unsigned)
SIGNATURE = "signature.json"
FIXTURE_FORMAT = "djson"  # JSON keeping microseconds (see serializer.py)
EXCLUDE = ["contenttypes", "auth.permission", "sessions.session"]


class BackupError(Exception):
    pass


def recipients_from(values: list[str]) -> list[pyrage.x25519.Recipient]:
    found = []
    for value in values:
        try:
            found.append(pyrage.x25519.Recipient.from_str(value.strip()))
        except pyrage.RecipientError as exc:
            raise BackupError(f"not an age public key (age1...): {value[:12]}...") from exc
    if not found:
        raise BackupError("no recipient: set DEFENSA_BACKUP_RECIPIENTS or pass --recipient")
    return found


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _register() -> None:
    serializers.register_serializer(FIXTURE_FORMAT, "defensa.core.crypto.serializer")


def _signing_key(key_id: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    master = master_keys().keys.get(key_id)
    if master is None:
        raise BackupError(
            f"the backup was signed under master key {key_id!r}, which is not configured here"
        )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"defensa backup signature v1"
    ).derive(master)


def _digest(members: list[tuple[str, bytes]]) -> bytes:
    """What is signed: each member's name and SHA-256, in the archive's order."""
    lines = [f"{name}\t{hashlib.sha256(data).hexdigest()}" for name, data in members]
    return "\n".join(["defensa-backup-v1", *lines]).encode()


def _signature(members: list[tuple[str, bytes]], key_id: str) -> bytes:
    mac = hmac.new(_signing_key(key_id), _digest(members), hashlib.sha256).hexdigest()
    return json.dumps({"master_key_id": key_id, "hmac_sha256": mac}).encode()


def verify_signature(members: list[tuple[str, bytes]]) -> None:
    """Raise BackupError unless the last member signs all the others under our master key."""
    if not members or members[-1][0] != SIGNATURE:
        raise BackupError("the backup is not signed by a Defensa server")
    try:
        claimed = json.loads(members[-1][1])
        key_id, mac = str(claimed["master_key_id"]), str(claimed["hmac_sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError("the backup's signature cannot be read") from exc
    expected = hmac.new(_signing_key(key_id), _digest(members[:-1]), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        raise BackupError(
            "the backup's signature does not match: it was changed, or made by someone else"
        )


def make_backup(recipients: list[str]) -> bytes:
    """The whole database and media folder, as age ciphertext for the recipients."""
    targets = recipients_from(recipients)
    _register()
    data = io.StringIO()
    call_command(
        "dumpdata",
        exclude=EXCLUDE,
        natural_foreign=True,
        format=FIXTURE_FORMAT,
        stdout=data,
        verbosity=0,
    )
    with connection.cursor() as cursor:
        applied = _applied(cursor)
    manifest = {"format": FORMAT, "database": connection.vendor, "migrations": applied}
    members = [
        ("manifest.json", json.dumps(manifest).encode()),
        ("data.json", data.getvalue().encode()),
    ]
    # Every stored file as stored (sealed files stay sealed: their keys are in data.json),
    # from this machine's disk or the shared object store alike.
    for name in media.names():
        stored = media.read_stored(name)
        if stored is not None:
            members.append((f"media/{name}", stored))
    members.append((SIGNATURE, _signature(members, master_keys().current_id)))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in members:
            _add(tar, name, content)
    return pyrage.encrypt(raw.getvalue(), targets)


def _applied(cursor) -> list[str]:  # type: ignore[no-untyped-def]
    cursor.execute("SELECT app, name FROM django_migrations")
    return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


def _identities(text: str) -> list[pyrage.x25519.Identity]:
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("AGE-SECRET-KEY-"):
            found.append(pyrage.x25519.Identity.from_str(line))
    if not found:
        raise BackupError("the identity file holds no AGE-SECRET-KEY- line")
    return found


def _database_is_empty() -> bool:
    for model in apps.get_models():
        if model._meta.label_lower in ("contenttypes.contenttype", "auth.permission"):
            continue
        if model._meta.managed and not model._meta.proxy and model._base_manager.exists():
            return False
    return True


def _members(raw: bytes) -> list[tuple[str, bytes]]:
    found = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r") as tar:
        for member in tar.getmembers():
            if member.isfile():
                found.append((member.name, tar.extractfile(member).read()))  # type: ignore[union-attr]
    return found


def restore_backup(blob: bytes, identity_text: str, *, accept_unsigned: bool = False) -> dict:
    """Decrypt, check the server's signature, and load a backup into this (migrated, empty)
    database and media folder. `accept_unsigned` admits a backup made before backups were
    signed (format 1), and only that."""
    try:
        raw = pyrage.decrypt(blob, _identities(identity_text))
    except pyrage.DecryptError as exc:
        raise BackupError("this identity does not open the backup") from exc
    members = _members(raw)
    try:
        manifest = json.loads(dict(members)["manifest.json"])
    except (KeyError, ValueError) as exc:
        raise BackupError("the backup has no readable manifest") from exc
    if manifest.get("format") == FORMAT:
        verify_signature(members)
    elif manifest.get("format") == 1:
        if not accept_unsigned:  # anyone with an operator's public key can make one
            raise BackupError(
                "this backup is not signed (made before backups were signed): restore it "
                "only if you know where it came from, with --accept-unsigned"
            )
    else:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    if not _database_is_empty():
        raise BackupError("the database is not empty: restore only into a fresh, migrated one")
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r") as tar:
        data = tar.extractfile("data.json").read()  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory() as tmp:
            _register()
            fixture = Path(tmp) / f"data.{FIXTURE_FORMAT}"
            fixture.write_bytes(data)
            call_command("loaddata", str(fixture), verbosity=0)
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith("media/"):
                continue
            name = member.name.removeprefix("media/")
            if name.startswith("/") or ".." in PurePosixPath(name).parts:
                raise BackupError(f"refusing a path outside the media folder: {member.name}")
            media.write_stored(name, tar.extractfile(member).read())  # type: ignore[union-attr]
    return manifest


# Backups in the object store (DEFENSA_S3_BACKUP_BUCKET) ---------------------------------


def backup_store():  # type: ignore[no-untyped-def]
    """The backups' own bucket, or BackupError when none is configured."""
    from django.conf import settings
    from django.core.files.storage import storages

    if "backups" not in settings.STORAGES:
        raise BackupError(
            "no object store for backups: set DEFENSA_S3_BACKUP_BUCKET (docs/configuration.md)"
        )
    return storages["backups"]


def store_backup(blob: bytes, *, now: float | None = None) -> str:
    """Put an (already encrypted) backup in the backups' bucket; return its name there."""
    from django.core.files.base import ContentFile

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    name = f"defensa-backup-{stamp}.age"
    store = backup_store()
    try:
        saved = store.save(name, ContentFile(blob))
    except media.STORE_ERRORS as exc:
        raise BackupError(f"the object store did not take the backup: {exc}") from exc
    if saved != name:
        raise BackupError(f"the object store renamed the backup {name} to {saved}")
    return name


def fetch_backup(name: str) -> bytes:
    """A backup's bytes from the backups' bucket."""
    store = backup_store()
    try:
        with store.open(name, "rb") as stored:
            return stored.read()  # type: ignore[no-any-return]
    except FileNotFoundError as exc:
        raise BackupError(f"no backup named {name} in the object store") from exc
    except media.STORE_ERRORS as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey"):
            raise BackupError(f"no backup named {name} in the object store") from exc
        raise BackupError(f"the object store could not be read: {exc}") from exc
