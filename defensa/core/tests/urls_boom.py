"""A test-only URLconf whose view crashes after reading sensitive form fields (property 21)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from defensa.core.access import public

BOOM = "deliberate-test-crash-7f3a"


@public
def crash_after_reading(request: HttpRequest) -> HttpResponse:
    # The shape of a real bug: values pulled out of the form into locals, under innocent
    # and sensitive names alike, then something fails.
    form = request.POST
    phone = form.get("phone", "")
    detained = {"a_number": form.get("a_number", ""), "notes": form.get("notes", "")}
    summary = f"{phone} {detained}"
    raise RuntimeError(f"{BOOM} ({len(summary)} chars)")


urlpatterns = [path("boom/", crash_after_reading, name="boom")]
