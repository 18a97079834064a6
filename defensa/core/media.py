"""Where stored files live: photos, videos, voicemail audio. The one seam for all of them.

One machine keeps them under MEDIA_ROOT. Several machines share an S3-compatible object
store (MinIO, Garage, Ceph or a provider the network trusts) through django-storages, set by
DEFENSA_S3_BUCKET and its companions (docs/configuration.md). Either way the store sits
behind Django's ``storages["media"]`` and every app goes through the functions here:

    name = media.put("evidence", "jpg", data, written=written)   # inside the caller's action
    media.read(name)           # bytes in the clear, or None when the file is gone
    media.open(name)           # a file object for a response, or None
    media.delete(name)         # the object, and its data key shredded
    media.remove(written)      # undo what an action wrote when it failed

When the store is not the network's own (DEFENSA_S3_ENCRYPT, on by default with a bucket),
every file is sealed with a data key of its own (defensa.core.crypto) before it leaves the
web process; the key sits in ``crypto.SealedFile`` beside the file's name, so a database
without the master key, or a bucket without the database, holds only noise. Files are never
served by a bucket URL: the access-checked views read them through here.

A store that cannot be reached raises ``StoreUnavailable``: the caller decides what is kept
(reports.actions keeps the report without its files and tells the reporter).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import IO

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import transaction

from defensa.core import crypto
from defensa.core.crypto.models import SealedFile

# What a store that cannot be reached, or refuses, raises.
STORE_ERRORS: tuple[type[BaseException], ...] = (OSError, BotoCoreError, ClientError)


class StoreUnavailable(Exception):
    """The file store could not be reached or refused the write; nothing of the file is kept."""


def store() -> Storage:
    return storages["media"]


def encrypting() -> bool:
    return bool(getattr(settings, "MEDIA_ENCRYPT", False))


def _aad(name: str) -> str:
    return f"media:{name}"


def put(
    folder: str,
    extension: str,
    data: bytes | Path,
    *,
    written: list[str],
    sealed: bool = False,
) -> str:
    """Store `data` (bytes, or a local file that is then removed) under a new random name in
    `folder`; return the name. The name goes into `written` before the write, so the caller
    can `remove(written)` if its transaction fails. `sealed`: the caller already encrypted
    the data under a key of its own (voicemail), so it is not sealed twice."""
    name = f"{folder}/{secrets.token_hex(16)}.{extension}"
    written.append(name)
    payload = data.read_bytes() if isinstance(data, Path) else data
    if encrypting() and not sealed:
        key = crypto.new_key("media.file")
        SealedFile.objects.create(name=name, data_key=key)
        payload = crypto.encrypt(key, payload, aad=_aad(name))
    try:
        saved = store().save(name, ContentFile(payload))
    except STORE_ERRORS as exc:
        raise StoreUnavailable(str(exc)) from exc
    if saved != name:  # a random 128-bit name never collides; a store that renames is wrong
        raise StoreUnavailable(f"the store renamed {name} to {saved}")
    if isinstance(data, Path):
        data.unlink(missing_ok=True)
    return name


def _raw(name: str) -> bytes | None:
    try:
        with store().open(name, "rb") as stored:
            return stored.read()
    except FileNotFoundError:
        return None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return None
        raise StoreUnavailable(str(exc)) from exc
    except STORE_ERRORS as exc:
        raise StoreUnavailable(str(exc)) from exc


def read(name: str) -> bytes | None:
    """The file in the clear (as it was put); None if it is gone or its key was shredded."""
    if not name:
        return None
    raw = _raw(name)
    if raw is None:
        return None
    sealed = SealedFile.objects.select_related("data_key").filter(name=name).first()
    if sealed is None:
        return raw
    try:
        return crypto.decrypt(sealed.data_key, raw, aad=_aad(name))
    except crypto.KeyShredded:
        return None


def open(name: str) -> IO[bytes] | None:  # noqa: A001 - the module's verb, like storages'
    """A file object for a response, or None if the file is gone."""
    if not name:
        return None
    if not SealedFile.objects.filter(name=name).exists():
        try:
            if not store().exists(name):  # an object store opens lazily: ask first
                return None
            return store().open(name, "rb")
        except FileNotFoundError:
            return None
        except ClientError:
            return None
        except STORE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
    data = read(name)
    return None if data is None else BytesIO(data)


def exists(name: str) -> bool:
    try:
        return bool(name) and store().exists(name)
    except STORE_ERRORS as exc:
        raise StoreUnavailable(str(exc)) from exc


def delete(name: str) -> None:
    """Shred the file's key (if sealed) and delete it from the store. The key goes first: a
    store that is down right now keeps only noise, and the object is deleted on the next
    purge of orphans by the operator's bucket lifecycle or a later delete."""
    if not name:
        return
    with transaction.atomic():
        for sealed in SealedFile.objects.select_related("data_key").filter(name=name):
            crypto.shred(sealed.data_key)
            sealed.delete()
    _delete_local(name)
    try:
        store().delete(name)
    except STORE_ERRORS as exc:
        raise StoreUnavailable(str(exc)) from exc


def _delete_local(name: str) -> None:
    """With a shared store, a file this machine keeps for itself under MEDIA_ROOT (an import
    being read, a video being cleaned) goes too, when its row goes."""
    if isinstance(store(), FileSystemStorage):
        return  # the store is this disk: deleting from it is deleting the file
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / name).resolve()
    if path.is_relative_to(root):
        path.unlink(missing_ok=True)


def remove(written: list[str]) -> None:
    """Undo the writes of an action that failed: nothing half-stored stays behind. A store
    that is down keeps at most an object whose key is already shredded, or none at all."""
    for name in written:
        with contextlib.suppress(StoreUnavailable, SuspiciousFileOperation):
            delete(name)


def names() -> Iterator[str]:
    """Every stored name (for the backup), sorted."""
    found: list[str] = []

    def walk(folder: str) -> None:
        folders, files = store().listdir(folder)
        prefix = f"{folder}/" if folder else ""
        found.extend(prefix + f for f in files)
        for sub in folders:
            walk(prefix + sub)

    try:
        walk("")
    except FileNotFoundError:
        return iter(())
    return iter(sorted(found))


def read_stored(name: str) -> bytes | None:
    """The bytes as stored (sealed or not): what a backup carries with the key rows."""
    return _raw(name)


def write_stored(name: str, data: bytes) -> None:
    """Put back bytes as they were stored, under their own name (a restore)."""
    try:
        store().delete(name)
        store().save(name, ContentFile(data))
    except STORE_ERRORS as exc:
        raise StoreUnavailable(str(exc)) from exc
