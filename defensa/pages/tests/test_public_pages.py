"""The public pages: open to anyone, in English and Spanish, without JavaScript."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import resolve, reverse

from bench.page_weight import scan_html
from defensa.core import languages
from defensa.core.access import access_of
from defensa.pages.views import RIGHTS_TOPICS

APP = Path(__file__).resolve().parent.parent

# URL -> (English h1, Spanish h1). None: the network's name is the heading.
PAGES = {
    reverse("pages:home"): (None, None),
    reverse("pages:report"): ("Report what you see", "Reporta lo que ves"),
    reverse("pages:rights"): ("Know your rights", "Conoce tus derechos"),
    reverse("pages:rights_topic", args=["home"]): (
        "If agents come to your home",
        "Si llegan agentes a tu casa",
    ),
    reverse("pages:rights_topic", args=["work"]): (
        "If agents come to your workplace",
        "Si llegan agentes a tu trabajo",
    ),
    reverse("pages:rights_topic", args=["street"]): (
        "If agents stop you on the street or in a car",
        "Si los agentes te paran en la calle o en el carro",
    ),
    reverse("pages:rights_topic", args=["court"]): (
        "At immigration court or an ICE check-in",
        "En la corte de inmigración o en una cita con ICE",
    ),
    reverse("pages:rights_topic", args=["card"]): ("Rights card", "Tarjeta de derechos"),
}
RIGHTS_PAGES = [url for url in PAGES if url.startswith("/rights/")]
NOT_LEGAL_ADVICE = {
    "en": ("This is not legal advice", "Find an attorney:", "pro bono"),
    "es": ("Esto no es asesoría legal", "Busca un(a) abogado(a):", "pro bono"),
}


def get(client: Client, url: str, language: str):  # type: ignore[no-untyped-def]
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language)


def h1(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, "no <h1>"
    return match.group(1).strip()


def test_every_rights_topic_has_a_page_in_the_list() -> None:
    topic_urls = {reverse("pages:rights_topic", args=[t]) for t in RIGHTS_TOPICS}
    assert topic_urls <= set(PAGES)


@pytest.mark.parametrize("url", list(PAGES))
def test_public_pages_are_declared_public(url: str) -> None:
    assert access_of(resolve(url).func) == "public"


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("url", list(PAGES))
def test_every_public_page_answers_in_the_browsers_language(
    client: Client, settings, url: str, language: str
) -> None:  # type: ignore[no-untyped-def]
    settings.NETWORK_NAME = "Red de Defensa de Boyle Heights"
    response = get(client, url, language)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}" dir="ltr">' in html
    assert response["Content-Language"] == language
    expected = PAGES[url][0 if language == "en" else 1] or settings.NETWORK_NAME
    assert h1(html) == expected
    # The language chooser offers every language, each named in itself, on every page.
    chooser = html.split('<details class="lang">')[1].split("</details>")[0]
    for lang in languages.ALL:
        assert f'name="language" value="{lang.code}" lang="{lang.code}"' in chooser
        assert f">{lang.name}</button>" in chooser


def test_spanish_pages_have_no_english_left(client: Client) -> None:
    html = get(client, reverse("pages:rights_topic", args=["home"]), "es").content.decode()
    for english in ("Don't open the door", "Know your rights", "Hotline", "Skip to content"):
        assert english not in html
    assert "No abras la puerta" in html
    assert "Saltar al contenido" in html  # from base.html, translated in defensa/core


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("url", RIGHTS_PAGES)
def test_rights_pages_point_to_an_attorney(client: Client, url: str, language: str) -> None:
    html = get(client, url, language).content.decode()
    for phrase in NOT_LEGAL_ADVICE[language]:
        assert phrase in html


@pytest.mark.parametrize("url", list(PAGES))
def test_public_pages_need_no_script_and_no_inline_style(client: Client, url: str) -> None:
    html = get(client, url, "es").content.decode()
    scan = scan_html(html)
    assert scan.scripts == []
    assert scan.noscript == 0
    assert scan.inline_styles == 0
    # Only our own assets: nothing from another origin.
    for _kind, asset in scan.assets:
        assert asset.startswith("/static/"), asset
    assert {kind for kind, _ in scan.assets} == {"icon", "link"}
    assert len(scan.main_text) > 200
    assert scan.main_links


def test_hotline_number_is_a_tel_link(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HOTLINE_NUMBER = "(213) 555-0100"
    html = get(client, reverse("pages:home"), "en").content.decode()
    assert '<a class="hotline" href="tel:2135550100">(213) 555-0100</a>' in html
    assert 'href="sms:2135550100"' in html
    assert "has not added its hotline number" not in html


@pytest.mark.parametrize(
    ("language", "calm"),
    [
        ("en", "This network has not added its hotline number here yet."),
        ("es", "Esta red todavía no ha puesto aquí su número de emergencia."),
    ],
)
def test_no_hotline_number_is_said_calmly(
    client: Client, settings, language: str, calm: str
) -> None:  # type: ignore[no-untyped-def]
    settings.HOTLINE_NUMBER = ""
    for url in (reverse("pages:home"), reverse("pages:report")):
        html = get(client, url, language).content.decode()
        assert calm in html
        assert "tel:" not in html


def test_home_leads_to_report_and_rights(client: Client) -> None:
    # One tap to the form itself; the advice page is linked from the form (issue 16).
    html = get(client, reverse("pages:home"), "es").content.decode()
    assert f'class="btn primary big" href="{reverse("reports:new")}">Reporta lo que ves' in html
    form = get(client, reverse("reports:new"), "es").content.decode()
    assert f'href="{reverse("pages:report")}"' in form
    for topic in RIGHTS_TOPICS:
        assert f'href="{reverse("pages:rights_topic", args=[topic])}"' in html


@pytest.mark.parametrize("language", ["en", "es"])
def test_report_page_leads_to_the_online_form(client: Client, language: str) -> None:
    html = get(client, reverse("pages:report"), language).content.decode()
    main = html.split('<main id="main">')[1].split("</main>")[0]
    assert "<form" not in main
    label = "Send a report online" if language == "en" else "Manda un reporte en línea"
    assert f'href="{reverse("reports:new")}">{label}</a>' in main
    for word in (
        ("What", "Where", "When", "How many")
        if language == "en"
        else ("Qué", "Dónde", "Cuándo", "Cuántos")
    ):
        assert f"<strong>{word}</strong>" in main
    assert ("safe distance" if language == "en" else "distancia segura") in main


def test_rights_card_is_in_english_for_the_officer_and_explained_in_spanish(
    client: Client,
) -> None:
    html = get(client, reverse("pages:rights_topic", args=["card"]), "es").content.decode()
    card = html.split('<div class="rights-card" lang="en">')[1].split("</div>")[0]
    assert "I am using my right to remain silent" in card
    assert "warrant signed by a judge" in card
    assert "Lo que dice la tarjeta" in html
    assert "Estoy usando mi derecho a guardar silencio" in html


def test_unknown_rights_topic_is_404(client: Client) -> None:
    assert client.get("/rights/nowhere/").status_code == 404


def test_language_switcher_works_without_javascript() -> None:
    # A plain form POST, with the CSRF check on as in production.
    client = Client(enforce_csrf_checks=True)
    url = reverse("pages:rights_topic", args=["work"])
    html = get(client, url, "en").content.decode()
    form = html.split('<details class="lang">')[1].split("</details>")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    assert f'name="next" value="{url}"' in form
    response = client.post(
        reverse("set_language"),
        {"csrfmiddlewaretoken": token, "next": url, "language": "es"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert response["Location"] == url
    # The choice now wins over the browser's English.
    html = get(client, url, "en").content.decode()
    assert '<html lang="es" dir="ltr">' in html
    assert h1(html) == "Si llegan agentes a tu trabajo"


def test_robots_txt_asks_not_to_index(client: Client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "User-agent: *\nDisallow: /\n"
    assert access_of(resolve("/robots.txt").func) == "public"


def test_favicon_is_linked_and_exists(client: Client) -> None:
    html = get(client, reverse("pages:home"), "en").content.decode()
    assert '<link rel="icon" href="/static/defensa/favicon.svg" type="image/svg+xml">' in html
    assert finders.find("defensa/favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/defensa/favicon.svg"


@pytest.mark.parametrize("app", ["pages", "core"])
def test_spanish_translation_is_complete(app: str) -> None:
    po = polib.pofile(str(APP.parent / app / "locale/es/LC_MESSAGES/django.po"))
    assert len(po) > 5
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert not po.metadata_is_fuzzy
