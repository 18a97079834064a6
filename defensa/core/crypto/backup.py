"""Encrypted backups (security property 22), in the age format.

A backup is a tar archive (manifest.json, data.json from dumpdata, media/...) encrypted with
age to one or more operators' public keys (`age1...`). The private key never has to be on the
server: `age -d -i key.txt backup.age | tar x` works offline, and `manage.py restore` takes
it with --identity on the machine being restored.

Data keys are in the backup only wrapped by the master key, which is not in it: restoring
needs the master key too (DEFENSA_MASTER_KEYS), and a key shredded before the backup was
taken is not in it at all. Sessions are left out (a restore signs everyone out); content
types and permissions are recreated by `migrate`.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import time
from pathlib import Path

import pyrage
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.db import connection

FORMAT = 1
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
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        _add(tar, "data.json", data.getvalue().encode())
        media = Path(settings.MEDIA_ROOT)
        if media.exists():
            for path in sorted(p for p in media.rglob("*") if p.is_file()):
                _add(tar, f"media/{path.relative_to(media).as_posix()}", path.read_bytes())
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


def restore_backup(blob: bytes, identity_text: str) -> dict:
    """Decrypt and load a backup into this (migrated, empty) database and media folder."""
    try:
        raw = pyrage.decrypt(blob, _identities(identity_text))
    except pyrage.DecryptError as exc:
        raise BackupError("this identity does not open the backup") from exc
    if not _database_is_empty():
        raise BackupError("the database is not empty: restore only into a fresh, migrated one")
    media = Path(settings.MEDIA_ROOT).resolve()
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        data = tar.extractfile("data.json").read()  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory() as tmp:
            _register()
            fixture = Path(tmp) / f"data.{FIXTURE_FORMAT}"
            fixture.write_bytes(data)
            call_command("loaddata", str(fixture), verbosity=0)
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith("media/"):
                continue
            target = (media / member.name.removeprefix("media/")).resolve()
            if not target.is_relative_to(media):
                raise BackupError(f"refusing a path outside the media folder: {member.name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
    return manifest
