"""Receiving a spreadsheet upload within the size limit, for the views of every kind.

The view must be csrf_exempt: the token is checked here, after the size, because the CSRF
middleware would read the whole body first.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from defensa.imports.actions import MAX_BYTES


class TooBig(Exception):
    """The file is over the limit (refused before or while reading it)."""


class _Bounded(FileUploadHandler):
    """Stops reading an upload past the limit (a body sent without its length, or lying)."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit, self.seen, self.too_big = limit, 0, False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.seen += len(raw_data)
        if self.seen > self.limit:
            self.too_big = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _no_response(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


def receive(
    request: HttpRequest, field: str = "file"
) -> tuple[UploadedFile | None, HttpResponse | None]:
    """(the uploaded file or None, the CSRF refusal or None); raises TooBig."""
    # Refused before a byte of the body is read: the size the browser announced.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BYTES + 64 * 1024:
        raise TooBig
    bounded = _Bounded(request, MAX_BYTES)
    request.upload_handlers.insert(0, bounded)
    # Checked as for any view (not this one, which the middleware would let through).
    refused = CsrfViewMiddleware(_no_response).process_view(request, _no_response, (), {})
    if refused is not None:
        return None, refused
    found = request.FILES.get(field)
    if bounded.too_big:
        raise TooBig
    if found is None or found.size == 0:
        return None, None
    return found, None
