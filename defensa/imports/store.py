"""The uploaded file and the error report, stored encrypted in chunks, read back as a stream.

Neither is ever whole in memory nor in plain text on our disk: each 64 KiB chunk is sealed
with AES-GCM under the job's data key, bound by its associated data to the job, the file and
its position, and a last empty chunk marks the end (a cut file is refused, not half read).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

from defensa.core import crypto
from defensa.imports.models import ImportJob

CHUNK = 64 * 1024
UPLOAD = "upload"
ERRORS = "errors"
_LENGTH = struct.Struct(">I")


class Damaged(Exception):
    """The stored file was cut or altered."""


def folder() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def path_of(job: ImportJob, name: str) -> Path:
    return folder() / f"{job.pk}.{name}"  # job.upload_path / job.errors_path under MEDIA_ROOT


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
        self._target = path_of(job, name)
        self._partial = self._target.with_suffix(self._target.suffix + ".part")
        self._out = open(self._partial, "wb")  # noqa: SIM115 - closed in close()

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
        os.replace(self._partial, self._target)
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


def read(job: ImportJob, name: str) -> Iterator[bytes]:
    """The plain bytes of the job's file `name`, chunk by chunk."""
    if job.data_key is None:
        raise Damaged
    try:
        source = open(path_of(job, name), "rb")  # noqa: SIM115 - closed below
    except OSError:
        raise Damaged from None
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


def exists(job: ImportJob, name: str) -> bool:
    return path_of(job, name).exists()


def delete(job: ImportJob, *names: str) -> None:
    for name in names or (UPLOAD, ERRORS):
        path_of(job, name).unlink(missing_ok=True)
