"""Issue 9, point 13: the page that shows a new member's TOTP secret is never stored."""

from __future__ import annotations

import pytest

from defensa.committees.tests.helpers import invite, pending_secret, secret_on_page, start_join

pytestmark = pytest.mark.django_db


def test_the_totp_secret_page_is_sent_with_no_store(net, client):  # type: ignore[no-untyped-def]
    _, token = invite(net.boyle, net.ana)
    assert start_join(client, token).status_code == 302
    page = client.get(f"/join/{token}/code/")
    # The legitimate path: the person sees the secret to add to their app.
    assert page.status_code == 200
    assert secret_on_page(page.content.decode()) == pending_secret(client)
    # A shared browser's cache, or a proxy on the way, must not keep it.
    assert "no-store" in page["Cache-Control"]
    assert "private" in page["Cache-Control"]
