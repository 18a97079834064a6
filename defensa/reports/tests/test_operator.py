"""The hotline operator's form: dispatchers only, fast, idempotent, actor recorded."""

from __future__ import annotations

import re

import pytest

from defensa.audit.models import AuditEntry
from defensa.incidents.models import TimelineEntry
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db

URL = "/hotline/new/"


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "the form carries a fresh token"
    return match.group(1)


def call(client, token: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "category": "sighting",
        "location_text": "Soto & 1st",
        "zip_code": "90033",
        "language": "es",
        "token": token,
        **fields,
    }
    return client.post(URL, data)


def test_the_form_is_built_for_the_keyboard(client_as, net):
    page = client_as(net.dani).get(URL).content.decode()
    html = page[page.index('<form method="post" novalidate>') :]
    fields = re.findall(r'<(?:input|select|textarea)[^>]*name="(\w+)"', html)
    # One column in the order a call goes; the category first, focused, "agents seen" chosen.
    assert [f for f in fields if f not in ("csrfmiddlewaretoken", "token")] == [
        "category",
        "location_text",
        "zip_code",
        "observed_at",
        "agents",
        "vehicles",
        "agency",
        "language",
        "description",
        "contact",
    ]
    assert re.search(r'<select name="category"[^>]*autofocus', html)
    assert '<option value="sighting" selected>' in html
    assert 'type="submit"' in html and 'accesskey="s"' in html
    assert 'name="photos"' not in html


def test_a_saved_call_shows_the_codes_and_an_empty_form_for_the_next(client_as, net):
    client = client_as(net.dani)
    first = token_of(client.get(URL).content.decode())
    response = call(client, first, description="Caller saw two vans", agents="4")

    assert response.status_code == 200
    report = Report.objects.get()
    assert (report.channel, report.language, report.agents) == ("operator", "es", 4)
    assert report.zip_code == "90033" and report.location_kind == "zip"
    html = response.content.decode()
    assert report.reference in html
    assert report.incident.reference in html
    assert token_of(html) != first  # the next call gets its own token
    assert "Caller saw two vans" not in html  # and an empty form

    # The operator is recorded, on the timeline and in the audit chain.
    entry = TimelineEntry.objects.get(incident=report.incident)
    assert entry.actor == net.dani
    assert AuditEntry.objects.filter(action="reports.received", actor_id=net.dani.pk).count() == 1

    # A second call about the same place joins the incident, and the page says so.
    second = call(client, token_of(html), description="Same vans")
    assert Report.objects.count() == 2
    assert f"Joined incident {report.incident.reference} (2 reports)" in second.content.decode()


def test_a_double_submit_is_one_report(client_as, net):
    client = client_as(net.dani)
    token = token_of(client.get(URL).content.decode())
    call(client, token)
    call(client, token)
    assert Report.objects.count() == 1


def test_a_call_without_a_place_is_refused_with_a_clear_message(client_as, net):
    client = client_as(net.dani)
    token = token_of(client.get(URL).content.decode())
    response = call(client, token, location_text="", zip_code="")
    assert response.status_code == 400
    assert Report.objects.count() == 0


@pytest.mark.parametrize("who", ["ana", "pat", "vero"])
def test_only_dispatchers_reach_it(client, client_as, net, who):
    person = getattr(net, who)
    if person.memberships.filter(is_dispatcher=True, status="full").exists():
        pytest.fail(f"{who} is a dispatcher in the test network; pick another persona")
    as_person = client_as(person)
    assert as_person.get(URL).status_code == 404
    assert as_person.post(URL, {"token": "x" * 30}).status_code == 404
    assert Report.objects.count() == 0


def test_anonymous_visitors_get_nothing(client, net):
    assert client.get(URL).status_code in (302, 404)
    assert Report.objects.count() == 0
