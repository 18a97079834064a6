"""Session limits, logout and caching (properties 11 and 12), and My page."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from defensa.accounts.middleware import SESSION_AUTH_AT, SESSION_SEEN_AT
from defensa.committees.models import Membership
from defensa.core.testing import sign_in

pytestmark = pytest.mark.django_db


def _age(client, **ago_seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Move the session's clocks into the past (our code reads them, not a frozen clock)."""
    session = client.session
    now = time.time()
    for key, ago in ago_seconds.items():
        session[key] = now - ago
    session.save()


def test_idle_session_ends(client, net, settings):
    sign_in(client, net.mo)
    _age(client, **{SESSION_SEEN_AT: settings.SESSION_IDLE_MINUTES * 60 + 5})
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session
    assert b"signed out to keep your account safe" in client.get("/accounts/login/").content


def test_session_just_inside_idle_limit_lives_and_is_refreshed(client, net, settings):
    sign_in(client, net.mo)
    _age(client, **{SESSION_SEEN_AT: settings.SESSION_IDLE_MINUTES * 60 - 30})
    assert client.get("/accounts/").status_code == 200
    assert time.time() - client.session[SESSION_SEEN_AT] < 5


def test_absolute_limit_ends_even_an_active_session(client, net, settings):
    sign_in(client, net.mo)
    _age(
        client,
        **{SESSION_AUTH_AT: settings.SESSION_ABSOLUTE_HOURS * 3600 + 5, SESSION_SEEN_AT: 10},
    )
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session


def test_logout_clears_site_data_and_session(client, net):
    sign_in(client, net.mo)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert SESSION_KEY not in client.session
    assert client.get("/accounts/").status_code == 302


def test_logout_needs_post(client, net):
    sign_in(client, net.mo)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/accounts/").status_code == 200


@pytest.mark.parametrize("path", ["/accounts/", "/accounts/security/", "/"])
def test_signed_in_pages_are_not_cached(client, net, path):
    sign_in(client, net.mo)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_sign_in_pages_are_not_cached(client, net):
    assert client.get("/accounts/login/")["Cache-Control"] == "no-store"


def test_my_page_lists_my_committees_only(client, net):
    sign_in(client, net.ana)
    page = client.get("/accounts/")
    content = page.content.decode()
    assert "Boyle Heights" in content
    assert "East LA" not in content
    assert "coordinator" in content
    assert 'href="/accounts/security/"' in content


def test_my_page_query_count_does_not_grow_with_committees(client, net):
    sign_in(client, net.ana)
    client.get("/accounts/")
    with CaptureQueriesContext(connection) as one:
        client.get("/accounts/")
    Membership.objects.create(user=net.ana, committee=net.east)
    Membership.objects.create(user=net.ana, committee=net.city)
    with CaptureQueriesContext(connection) as three:
        page = client.get("/accounts/")
    assert "East LA" in page.content.decode()
    assert len(three) == len(one)


def test_my_page_in_spanish(client, net):
    sign_in(client, net.pat)
    client.cookies["django_language"] = "es"
    page = client.get("/accounts/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Mis comités" in page.content.decode()
