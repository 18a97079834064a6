"""404, 403, 410 and 500 pages: the site's look, a phone's viewport, the person's language,
the hotline number and a way home. 500.html renders with no request and no database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.template import loader
from django.test import Client
from django.utils import timezone, translation

from defensa.committees.models import Invitation
from defensa.committees.tests.helpers import invite
from defensa.core import testing

HOTLINE = "(213) 555-0100"
ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


@pytest.fixture(autouse=True)
def _hotline(settings):  # type: ignore[no-untyped-def]
    settings.HOTLINE_NUMBER = HOTLINE
    settings.DEBUG = False


def _looks_like_the_site(html: str, lang: str) -> None:
    assert f'<html lang="{lang}" dir="ltr">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "defensa/app.css" in html
    assert 'href="tel:+2135550100"' not in html  # the tel: link keeps only digits and +
    assert 'href="tel:2135550100"' in html and HOTLINE in html
    assert 'href="/"' in html  # a way home


@pytest.mark.django_db
def test_404_in_spanish_for_a_visitor_whose_browser_asks_for_it() -> None:
    response = Client().get("/no-such-page/", **ES)
    assert response.status_code == 404
    html = response.content.decode()
    _looks_like_the_site(html, "es")
    assert "No encontramos esta página" in html
    assert "Ir a Mi página" not in html  # nobody is signed in


@pytest.mark.django_db
def test_404_of_a_role_page_in_the_persons_language_with_my_page(net) -> None:  # type: ignore[no-untyped-def]
    client = testing.sign_in(Client(), net.dani)
    # Signing in sets the language cookie to the person's own (SignInLanguageMiddleware).
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = net.dani.language
    response = client.get(f"/dispatch/{net.east.slug}/")  # another compartment
    assert response.status_code == 404
    html = response.content.decode()
    _looks_like_the_site(html, "es")
    assert "Ir a Mi página" in html and 'href="/accounts/"' in html


@pytest.mark.django_db
@pytest.mark.urls("defensa.core.tests.urls_errors")
def test_403_page() -> None:
    response = Client().get("/refuse/", **ES)
    assert response.status_code == 403
    html = response.content.decode()
    _looks_like_the_site(html, "es")
    assert "No puedes abrir esta página" in html


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_the_sites_403() -> None:
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {}, **ES)
    assert response.status_code == 403
    html = response.content.decode()
    _looks_like_the_site(html, "es")
    assert "El formulario venció" in html and "No se mandó nada" in html


@pytest.mark.django_db
@pytest.mark.urls("defensa.core.tests.urls_errors")
def test_500_page_in_spanish() -> None:
    response = Client(raise_request_exception=False).get("/crash/", **ES)
    assert response.status_code == 500
    html = response.content.decode()
    _looks_like_the_site(html, "es")
    assert "Algo salió mal de nuestro lado" in html


def test_500_renders_without_request_nor_database() -> None:
    # No django_db mark: any query here fails the test. No request: an empty context, as
    # Django's server_error gives it.
    with translation.override("en"):
        html = loader.get_template("500.html").render({})
    _looks_like_the_site(html, "en")
    assert "Something went wrong on our side" in html


@pytest.mark.django_db
def test_410_expired_invitation_has_the_way_home(net) -> None:  # type: ignore[no-untyped-def]
    invitation, token = invite(net.boyle, net.ana)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = Client().get(f"/join/{token}/", **ES)
    assert response.status_code == 410
    html = response.content.decode()
    _looks_like_the_site(html, "es")
    assert "A dónde ir ahora" in html
