"""The dispatcher console: dispatchers of the committee only; works without JavaScript."""

from __future__ import annotations

import pytest

from defensa.dispatch.models import Offer
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.incidents.models import State

pytestmark = pytest.mark.django_db


def test_only_the_committees_dispatchers_open_it(net, client_as):
    for person in (net.mo, net.pat, net.ana, net.omar, net.vero):
        assert client_as(person).get("/dispatch/boyle-heights/").status_code == 404
    assert client_as(net.dani).get("/dispatch/east-la/").status_code == 404


def test_queue_shows_incidents_reports_places_and_people_near(net, client_as):
    verifier("alma", net.boyle)
    incident = report_incident()
    page = client_as(net.dani).get("/dispatch/boyle-heights/")
    assert page.status_code == 200
    html = page.content.decode()
    assert incident.reference in html
    assert "1 report" in html
    assert "90033" in html
    assert "Alma" in html
    assert 'aria-live="polite"' in html
    assert "vendor/htmx.min.js" in html
    assert "<script>" not in html  # no inline script (CSP)
    fragment = client_as(net.dani).get("/dispatch/boyle-heights/queue/")
    assert incident.reference in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


def test_request_verification_from_the_console(net, client_as):
    verifier("alma", net.boyle)
    incident = report_incident()
    client = client_as(net.dani)
    done = client.post(f"/dispatch/boyle-heights/{incident.pk}/verify/")
    assert done.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.VERIFYING
    [offer] = Offer.objects.all()
    assert offer.offered_by == net.dani
    html = client.get("/dispatch/boyle-heights/").content.decode()
    assert "Alma: Offered" in html
    # Another committee's dispatcher cannot reach it, even knowing the id.
    assert client.post(f"/dispatch/east-la/{incident.pk}/verify/").status_code == 404
    assert client.get(f"/dispatch/boyle-heights/{incident.pk}/verify/").status_code == 405


def test_the_vendored_htmx_is_served_locally(client):
    from django.contrib.staticfiles import finders

    path = finders.find("dispatch/vendor/htmx.min.js")
    assert path is not None
    with open(path, encoding="utf-8") as handle:
        assert "Zero-Clause BSD" in handle.readline()


def test_dispatcher_confirms_with_a_reason_notes_and_closes(net, client_as):
    incident = report_incident()
    client = client_as(net.dani)
    base = f"/dispatch/boyle-heights/{incident.pk}"
    page = client.get(f"/dispatch/boyle-heights/?incident={incident.pk}").content.decode()
    assert "Agents at the door" in page or "agents at the door" in page
    # No reason: refused, nothing changes.
    client.post(f"{base}/confirm/", {"note": "  "})
    incident.refresh_from_db()
    assert incident.state == State.NEW
    client.post(f"{base}/confirm/", {"note": "Union steward saw them on site"})
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED
    # The confirmation, then what it set off (its own entry: counts, no note).
    confirmed, alerted = list(incident.timeline.order_by("-pk")[:2])[::-1]
    assert confirmed.note == "Union steward saw them on site"
    assert alerted.detail["step"] == "alerted"
    client.post(f"{base}/note/", {"note": "Legal team called"})
    assert incident.timeline.last().note == "Legal team called"
    client.post(f"{base}/false_alarm/", {"note": "too late"})  # illegal from confirmed
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED
    client.post(f"{base}/close/", {"note": ""})
    incident.refresh_from_db()
    assert incident.state == State.CLOSED
    assert client.post(f"{base}/dance/").status_code == 404
    assert client_as(net.omar).post(f"/dispatch/east-la/{incident.pk}/close/").status_code == 404


def test_dispatcher_marks_a_false_alarm(net, client_as):
    incident = report_incident()
    client_as(net.dani).post(
        f"/dispatch/boyle-heights/{incident.pk}/false_alarm/", {"note": "Film crew"}
    )
    incident.refresh_from_db()
    assert incident.state == State.FALSE_ALARM


def test_the_queue_does_not_query_per_incident(net, client_as, django_assert_max_num_queries):
    verifier("alma", net.boyle)
    client = client_as(net.dani)
    for i in range(6):
        incident = report_incident(lat=34.04 + i * 0.01, lon=-118.21, category="checkpoint")
        client.post(f"/dispatch/boyle-heights/{incident.pk}/verify/")
    client.get("/dispatch/boyle-heights/queue/")  # warm the per-process ZIP caches
    # A fixed number, whatever the incidents: two are the members' texts (the committee's
    # subtree, one query per level, then the texts), three are triage's (the held queue, the
    # near misses, flood mode), each once per page; up to three are the names on duty nearby
    # (out to two rings, to eight, then the committee's everyone: matching._NAME_RINGS), once
    # per committee on the page.
    with django_assert_max_num_queries(17):
        assert client.get("/dispatch/boyle-heights/queue/").status_code == 200


def test_console_links_to_the_operator_form_merge_and_split(net, client_as):
    incident = report_incident()
    client = client_as(net.dani)
    html = client.get(f"/dispatch/boyle-heights/?incident={incident.pk}").content.decode()
    for url in (
        "/hotline/new/",
        f"/incidents/{incident.reference}/merge/",
        f"/incidents/{incident.reference}/split/",
    ):
        assert f'href="{url}"' in html
        assert client.get(url).status_code == 200, url
