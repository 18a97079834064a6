"""Issue 9, points 2 and 3: the public form's flood gate, behind a proxy and before uploads.

Real requests through the whole middleware stack (the test client sets REMOTE_ADDR and the
forwarded header as a proxy would).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings

from defensa.reports.flood import gate
from defensa.reports.models import Report
from defensa.reports.tests.test_form import fresh_form, post

pytestmark = pytest.mark.django_db
PROXY = "127.0.0.1"
VICTIM = "198.51.100.23"
ATTACKER = "203.0.113.66"


def _through_proxy(real_peer: str, claimed: str = "") -> Client:
    """A client behind our proxy, which appends the address it saw to what came in."""
    forwarded = f"{claimed}, {real_peer}" if claimed else real_peer
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_one_attacker_behind_the_proxy_cannot_get_the_next_reporter_a_429(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    monkeypatch.setattr(gate, "limit", 2)
    # The attacker claims to be the victim in the header it writes itself.
    attacker = _through_proxy(ATTACKER, claimed=VICTIM)
    codes = [post(attacker, fresh_form(attacker)).status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    # The next real reporter (another phone behind the same proxy) is not slowed down.
    victim = _through_proxy(VICTIM)
    assert post(victim, fresh_form(victim)).status_code == 200
    assert Report.objects.count() == 3


def test_a_made_up_header_does_not_escape_the_gate(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Default: no trusted proxy. Each post claims another address; all come from one peer.
    monkeypatch.setattr(gate, "limit", 2)
    codes = []
    for i in range(4):
        client = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        codes.append(post(client, fresh_form(client)).status_code)
    assert codes == [200, 200, 429, 429]
    # Behind the proxy, the same made-up header is still the attacker's own count.
    settings.TRUSTED_PROXIES = [PROXY]
    gate.reset()
    codes = []
    for i in range(3):
        client = _through_proxy(ATTACKER, claimed=f"192.0.2.{i}")
        codes.append(post(client, fresh_form(client)).status_code)
    assert codes == [200, 200, 429]


def test_the_gate_refuses_before_any_upload_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    # An over-limit source's post with a file that is no image gets the 429, not the form's
    # "not a photo" error: the form (and its decoding) never ran.
    monkeypatch.setattr(gate, "limit", 1)
    client = Client(REMOTE_ADDR=ATTACKER)

    def with_bad_photo() -> int:
        return client.post(
            "/report/new/",
            {
                "token": fresh_form(client),
                "category": "sighting",
                "zip_code": "90022",
                "photos": [SimpleUploadedFile("x.jpg", b"MZ not an image", "image/jpeg")],
            },
        ).status_code

    assert with_bad_photo() == 400  # within the limit: the form looked at the file
    assert with_bad_photo() == 429  # over it: refused before the file was opened
    assert Report.objects.count() == 0
