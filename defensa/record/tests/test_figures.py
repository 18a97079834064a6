"""Figures over time: counts per day, verdict shares, times to acceptance and verdict (p50,
p90), alerts per channel; each chart beside its table, each table as an audited CSV; the
subtree for a committee's dispatchers and coordinators, the network for its admins."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.accounts.models import Skill, SkillKind
from defensa.audit.models import AuditEntry
from defensa.core import geo
from defensa.core.testing import join, make_user
from defensa.dispatch import actions
from defensa.dispatch.models import AreaAlert, Offer
from defensa.dispatch.tests.helpers import BOYLE, report_incident, verifier
from defensa.incidents import actions as incident_actions
from defensa.incidents.models import Incident
from defensa.notify.models import Delivery, Status
from defensa.notify.testing import smtp_server
from defensa.notify.tests.helpers import run_worker
from defensa.record.figures import percentile

pytestmark = pytest.mark.django_db
__all__ = ["smtp_server"]
MIN = dt.timedelta(minutes=1)
EAST = (34.0239, -118.1720)


def url(committee, table: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/committees/{committee.slug}/figures/" + (f"{table}.csv" if table else "")


def _opened_ago(incident: Incident, minutes: int) -> None:
    """Test data: the incident was opened `minutes` ago (its first report's moment)."""
    Incident.objects.filter(pk=incident.pk).update(created_at=timezone.now() - minutes * MIN)


@pytest.fixture
def story(net):  # type: ignore[no-untyped-def]
    """In Boyle Heights today: one incident confirmed (a verifier accepted 4 minutes after
    the first report, the verdict 20 minutes after), one false alarm (verdict at 10), one
    left unconfirmed with two reports. In East LA: one unconfirmed incident."""
    net.vero.on_duty = False
    net.vero.save()
    alma = verifier("alma", net.boyle)
    observer = make_user("olga", on_duty=True)  # legal observer on call
    join(observer, net.boyle)
    Skill.objects.create(user=observer, kind=SkillKind.LEGAL_OBSERVER)
    nearby = make_user("nico", language="es")  # asked for alerts about this neighbourhood
    join(nearby, net.boyle)
    AreaAlert.objects.create(user=nearby, cell=geo.cell_for(*BOYLE))
    confirmed = report_incident(category="workplace_raid")
    alarm = report_incident(category="checkpoint", lat=34.06, lon=-118.19)
    quiet = report_incident(category="sighting", lat=34.04, lon=-118.23)
    report_incident(category="sighting", lat=34.04, lon=-118.23)  # joins `quiet`
    east = report_incident(lat=EAST[0], lon=EAST[1], zip_code="90022", text="Whittier")
    assert len({confirmed.pk, alarm.pk, quiet.pk, east.pk}) == 4
    now = timezone.now()
    _opened_ago(confirmed, 20)
    [offer] = actions.offer_to_nearest(confirmed, actor=net.dani, now=now - 18 * MIN)
    actions.accept_offer(offer, now=now - 16 * MIN)
    actions.confirm_and_respond(Incident.objects.get(pk=confirmed.pk), actor=net.dani, note="seen")
    _opened_ago(alarm, 10)
    incident_actions.mark_false_alarm(Incident.objects.get(pk=alarm.pk), actor=net.dani, note="no")
    assert Offer.objects.get(pk=offer.pk).responder == alma
    return {"confirmed": confirmed, "alarm": alarm, "quiet": quiet, "east": east}


def _table(html: str, first_cell: str) -> str:
    return html.split(first_cell, 1)[1].split("</tr>", 1)[0]


def test_who_sees_which_figures(net, client_as):
    for person in (net.dani, net.ana):  # dispatcher, coordinator
        assert client_as(person).get(url(net.boyle)).status_code == 200
    for person in (net.mo, net.pat, net.lucia, net.omar, net.vero):
        assert client_as(person).get(url(net.boyle)).status_code == 404
        assert client_as(person).get(url(net.boyle, "daily")).status_code == 404
    assert client_as(net.dani).get(url(net.city)).status_code == 404
    assert client_as(net.dani).get("/figures/").status_code == 404
    assert client_as(net.admin).get("/figures/").status_code == 200
    assert client_as(net.admin).get("/figures/alerts.csv").status_code == 200
    assert AuditEntry.objects.filter(action="record.figures_exported").count() == 1


def test_counts_shares_and_times_of_a_committee(net, client_as, story):
    today = timezone.now().astimezone(net.boyle.tz).date()
    client = client_as(net.ana)
    page = client.get(url(net.boyle))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<polyline" in html and "<table>" in html
    assert "<script" not in html
    # Only counts: no reference, no reporter's words.
    for incident in story.values():
        assert incident.reference not in html
    assert "Soto and 1st" not in html and "agents at the door" not in html
    rows = list(csv.reader(io.StringIO(client.get(url(net.boyle, "daily")).content.decode())))
    assert rows[0][:6] == ["day", "reports", "incidents", "verified", "false_alarm", "unconfirmed"]
    [row] = [r for r in rows[1:] if r[0] == today.isoformat()]
    # 4 reports and 3 incidents in Boyle Heights; East LA's is not its own.
    assert row == [today.isoformat(), "4", "3", "1", "1", "1", "33", "33", "33"]
    times = list(csv.reader(io.StringIO(client.get(url(net.boyle, "times")).content.decode())))
    overall = times[-1]
    # Accepted 4 minutes after the first report; verdicts at 20 and 10 minutes.
    assert overall[0] == "all"
    assert overall[1:4] == ["1", "4", "4"]
    assert overall[4] == "2"
    assert int(overall[5]) in (10, 11) and int(overall[6]) in (20, 21)
    # Each download is audited, with its table and filter.
    exported = AuditEntry.objects.filter(action="record.figures_exported").order_by("seq")
    assert [e.data["table"] for e in exported] == ["daily", "times"]
    assert exported[0].committee_id == net.boyle.pk


def test_a_city_sees_its_locals_and_can_narrow(net, client_as, story):
    carla = make_user("carla")
    join(carla, net.city, is_coordinator=True)
    client = client_as(carla)
    today = timezone.now().astimezone(net.city.tz).date().isoformat()

    def day_row(params):  # type: ignore[no-untyped-def]
        content = client.get(url(net.city, "daily"), params).content.decode()
        return next(r for r in csv.reader(io.StringIO(content)) if r[0] == today)

    assert day_row({})[1:3] == ["5", "4"]
    assert day_row({"committee": net.east.pk})[1:3] == ["1", "1"]
    # A committee outside the subtree is refused, in words.
    response = client.get(url(net.city), {"committee": net.network.pk})
    assert response.status_code == 400
    assert "Please check the filter" in response.content.decode()


def test_alerts_sent_are_counted_per_channel(net, client_as, story, smtp_server):
    run_worker()  # the delivery engine sends them, through a loopback SMTP server
    alerts = Delivery.objects.filter(
        template__in=["incident_alert", "incident_confirmed_legal"], status=Status.SENT
    )
    assert alerts.count() == 2
    channels = dict(alerts.values_list("channel").annotate(n=Count("id")))
    content = client_as(net.dani).get(url(net.boyle, "alerts")).content.decode()
    rows = list(csv.reader(io.StringIO(content)))
    today = timezone.now().astimezone(net.boyle.tz).date().isoformat()
    header, [row] = rows[0], [r for r in rows[1:] if r[0] == today]
    counted = dict(zip(header[1:-1], map(int, row[1:-1]), strict=True))
    assert {k: v for k, v in counted.items() if v} == channels
    assert int(row[-1]) == sum(channels.values())
    # East LA's figures count none of Boyle Heights' alerts.
    east = make_user("eli")
    join(east, net.east, is_dispatcher=True)
    content = client_as(east).get(url(net.east, "alerts")).content.decode()
    assert [r[-1] for r in csv.reader(io.StringIO(content))][1:] == ["0"] * 30


def test_the_page_speaks_spanish(net, client_as, story):
    net.ana.language = "es"
    net.ana.save()
    html = client_as(net.ana).get(url(net.boyle), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Reportes e incidentes por día" in html
    assert "Falsa alarma" in html


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"since": "2026-03-10", "until": "2026-03-01"}, "The start date is after the end date."),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "Choose at most 366 days."),
        ({"since": "yesterday"}, "Enter a valid date."),
        ({"committee": "x"}, "Select a valid choice."),
    ],
)
def test_bad_filters_get_words_and_no_figures(net, client_as, params, words):
    client = client_as(net.dani)
    response = client.get(url(net.boyle), params)
    assert response.status_code == 400 and words in response.content.decode()
    before = AuditEntry.objects.count()
    assert client.get(url(net.boyle, "daily"), params).status_code == 400
    assert AuditEntry.objects.count() == before  # nothing exported, nothing audited


def test_the_queries_do_not_grow_with_the_incidents(net, client_as, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    client = client_as(net.dani)
    report_incident()
    client.get(url(net.boyle))
    with django_assert_max_num_queries(14) as few:
        client.get(url(net.boyle))
    for i in range(12):
        report_incident(lat=34.03 + i * 0.004, lon=-118.2, category="checkpoint")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(net.boyle)).status_code == 200


def test_percentiles_are_nearest_rank():
    assert percentile({}, 50) is None
    assert percentile({8: 1}, 90) == 8
    values = dict.fromkeys(range(1, 11), 1)
    assert percentile(values, 50) == 5 and percentile(values, 90) == 9
    assert percentile({1: 1, 100: 1}, 50) == 1 and percentile({1: 1, 100: 9}, 50) == 100


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(["since", "until", "committee"]), st.text(max_size=30), max_size=3
    )
)
def test_any_filter_gets_an_answer_not_an_error(net, client_as, params):
    response = client_as(net.dani).get(url(net.boyle), params)
    assert response.status_code in (200, 400)
