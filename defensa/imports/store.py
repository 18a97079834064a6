"""The uploaded file and the error report, stored encrypted in chunks, read back as a stream.

Neither is ever whole in memory nor in plain text on our disk: each 64 KiB chunk is sealed
with AES-GCM under the job's data key, bound by its associated data to the job, the file and
its position, and a last empty chunk marks the end (a cut file is refused, not half read).

Both live in the file store (defensa.core.media: this machine's MEDIA_ROOT, or the object
store several machines share), under `imports/<job>.upload` and `imports/<job>.errors`, so a
worker on another machine reads what a web machine received. They are already sealed under
the job's key, so the store does not seal them again. A file is written to this machine's
disk first (DATA_DIR/partial, sealed) and handed to the store whole when closed: a reader
never sees half of one. A store that cannot be reached raises `Unavailable`, a kind of
`reading.Unreadable` whose message tells the person to try again.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files import File
from django.utils.translation import gettext as _

from defensa.core import crypto, media
from defensa.imports.models import ImportJob
from defensa.imports.reading import Unreadable

CHUNK = 64 * 1024
UPLOAD = "upload"
ERRORS = "errors"
_LENGTH = struct.Struct(">I")


class Damaged(Exception):
    """The stored file was cut or altered."""


class Unavailable(Unreadable):
    """The file store could not be reached; nothing was kept or read. The message says so."""


def _unavailable() -> Unavailable:
    return Unavailable(
        _("The file store did not answer, so the file was not kept. Try again in a few minutes.")
    )


def partial_folder() -> Path:
    """This machine's own folder for files being written (sealed), outside the store."""
    path = Path(settings.DATA_DIR) / "partial"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def name_of(job: ImportJob, name: str) -> str:
    return f"imports/{job.pk}.{name}"  # job.upload_path / job.errors_path in the file store


class _Sealed(File):
    """A finished local file: FileSystemStorage moves it into place (one rename on the same
    disk); an object store uploads it in parts."""

    def temporary_file_path(self) -> str:
        return str(self.name)


def _aad(job: ImportJob, name: str, n: int | str) -> str:
    return f"imports.{name}#{job.pk}:{n}"


class Writer:
    """Seals what is added into the job's file `name`, 64 KiB at a time; `close` ends it.

    The file appears under its name only when closed: a half-written one is never read.
    """

    def __init__(self, job: ImportJob, name: str) -> None:
        if job.data_key is None:
            raise Damaged
        self.job, self.name, self.size, self._n, self._buffer = job, name, 0, 0, b""
        self._target = name_of(job, name)
        handle, partial = tempfile.mkstemp(prefix=f"import-{job.pk}-", dir=partial_folder())
        self._partial = Path(partial)
        self._out = os.fdopen(handle, "wb")

    def add(self, data: bytes) -> None:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= CHUNK:
            self._seal(self._buffer[:CHUNK], self._n)
            self._buffer, self._n = self._buffer[CHUNK:], self._n + 1

    def _seal(self, data: bytes, n: int | str) -> None:
        blob = crypto.encrypt(self.job.data_key, data, aad=_aad(self.job, self.name, n))  # type: ignore[arg-type]
        self._out.write(_LENGTH.pack(len(blob)))
        self._out.write(blob)

    def close(self) -> int:
        if self._buffer:
            self._seal(self._buffer, self._n)
            self._buffer, self._n = b"", self._n + 1
        self._seal(b"", "end")
        self._out.close()
        try:
            _delete(self._target)
            with open(self._partial, "rb") as sealed:
                saved = media.store().save(self._target, _Sealed(sealed, name=str(self._partial)))
        except media.STORE_ERRORS:
            raise _unavailable() from None
        finally:
            self._partial.unlink(missing_ok=True)
        if saved != self._target:
            raise _unavailable()
        return self.size

    def abandon(self) -> None:
        self._out.close()
        self._partial.unlink(missing_ok=True)


def write(job: ImportJob, name: str, chunks: Iterable[bytes]) -> int:
    """Seal `chunks` (any sizes) into the job's file `name`; returns the plain byte count."""
    writer = Writer(job, name)
    try:
        for chunk in chunks:
            writer.add(chunk)
    except BaseException:
        writer.abandon()
        raise
    return writer.close()


def _open(target: str) -> IO[bytes]:
    try:
        source = media.store().open(target, "rb")
        source.read(0)  # an object store opens lazily: fetch now, so a missing one says so
    except FileNotFoundError:
        raise Damaged from None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            raise Damaged from None
        raise _unavailable() from None
    except media.STORE_ERRORS:
        raise _unavailable() from None
    return source  # type: ignore[return-value]


def read(job: ImportJob, name: str) -> Iterator[bytes]:
    """The plain bytes of the job's file `name`, chunk by chunk."""
    if job.data_key is None:
        raise Damaged
    source = _open(name_of(job, name))
    with source:
        n = 0
        while True:
            head = source.read(_LENGTH.size)
            if len(head) < _LENGTH.size:
                raise Damaged
            blob = source.read(_LENGTH.unpack(head)[0])
            try:
                chunk = crypto.decrypt(job.data_key, blob, aad=_aad(job, name, n))
            except crypto.WrongKey:
                try:
                    crypto.decrypt(job.data_key, blob, aad=_aad(job, name, "end"))
                except crypto.WrongKey:
                    raise Damaged from None
                return
            n += 1
            yield chunk


def read_safely(job: ImportJob, name: str) -> Iterator[bytes]:
    """As `read`, for a download already under way: a damaged file ends the body early
    instead of raising mid-response."""
    try:
        yield from read(job, name)
    except (Damaged, crypto.CryptoError):
        return


def exists(job: ImportJob, name: str) -> bool:
    try:
        return media.store().exists(name_of(job, name))
    except media.STORE_ERRORS:
        return False


def _delete(target: str) -> None:
    media.store().delete(target)


def delete(job: ImportJob, *names: str) -> None:
    """Delete the job's files from the store. A store that is down keeps them: they are
    sealed under the job's key, which goes with the job (and a later delete removes them)."""
    for name in names or (UPLOAD, ERRORS):
        with contextlib.suppress(*media.STORE_ERRORS):
            _delete(name_of(job, name))
