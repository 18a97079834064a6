"""Assessments as history: appended, dated, who and why; the current value is the latest; the
chart of the unit, coverage, leaders and the trend; the scale fixed once used."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.organising import actions, figures
from defensa.organising.models import Assessment, Policy
from defensa.organising.tests.helpers import contact, make_organiser, workplace

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(net):  # type: ignore[no-untyped-def]
    return make_organiser("olga", net.boyle)


def test_nothing_is_overwritten_and_the_latest_counts(net, olga):  # type: ignore[no-untyped-def]
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa")
    first = actions.assess_worker(rosa, 3, reason="Listened, undecided", actor=olga)
    second = actions.assess_worker(rosa, 1, reason="Signed up five co-workers", actor=olga)
    assert Assessment.objects.filter(worker=rosa).count() == 2
    first.refresh_from_db()
    assert first.value == 3 and actions.reason_of(first) == "Listened, undecided"
    assert figures.current_values(place.workers.all()) == {rosa.pk: 1}
    assert second.assessed_by == olga
    entry = AuditEntry.objects.filter(action="organising.assess_worker").last()
    assert "Signed up" not in str(entry.data) and "value" not in entry.data


@pytest.mark.parametrize("value", [0, 6, -1, "2", None, 2.0, True])
def test_a_value_off_the_scale_is_refused(net, olga, value):  # type: ignore[no-untyped-def]
    rosa = contact(workplace(net.boyle, olga), olga, "Rosa")
    with pytest.raises(actions.OrganisingError) as error:
        actions.assess_worker(rosa, value, reason="x", actor=olga)
    assert error.value.code == "scale"
    assert not Assessment.objects.exists()


def test_a_value_off_the_scale_on_the_form_is_a_clear_message(net, olga, client_as):  # type: ignore[no-untyped-def]
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa")
    client = client_as(olga)
    response = client.post(
        f"/organising/workplaces/{place.pk}/workers/{rosa.pk}/assess/",
        {"value": "7", "reason": "x"},
        follow=True,
    )
    assert "An assessment is a number from 1 to 5." in response.content.decode()
    assert not Assessment.objects.exists()


def test_the_chart_coverage_and_leaders(net, olga, client_as):  # type: ignore[no-untyped-def]
    place = workplace(net.boyle, olga, headcount=10)
    a = contact(place, olga, "Alma Zq", dep="Kitchen", shift="Day")
    b = contact(place, olga, "Beto Zq", dep="Kitchen", shift="Night")
    contact(place, olga, "Cruz Zq", dep="Packing", shift="Day")
    actions.assess_worker(a, 1, reason="leads", actor=olga)
    actions.assess_worker(b, 4, reason="doubts", actor=olga)
    actions.set_leader(a, leader=True, actor=olga)
    chart = figures.unit_chart(place)
    assert chart.workers == 3 and chart.assessed == 2 and chart.coverage_percent == 20
    assert chart.leaders == 1 and chart.leaders_per_ten == "3.3"
    kitchen = dict(zip(chart.shifts, chart.rows[0], strict=True))
    assert kitchen["Day"].workers == [(a.pk, 1, True)]
    assert kitchen["Night"].workers == [(b.pk, 4, False)]
    assert chart.by_value[0] == 1
    page = client_as(olga).get(f"/organising/workplaces/{place.pk}/").content.decode()
    assert "2 of about 10 workers assessed (20%)" in page
    # The leader's square is outlined: one square in the cell's "leaders" path.
    assert page.count('class="leaders"') == 1 and page.count("h10v10h-10z") == 3 + 1
    # The chart shows no names (whole names: a page's random CSRF token may hold "Zq").
    assert not any(name in page for name in ("Alma Zq", "Beto Zq", "Cruz Zq"))
    assert "<polyline" in page


def test_the_trend_counts_each_week_by_the_latest_value_then(net, olga):  # type: ignore[no-untyped-def]
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa")
    now = timezone.now()
    old = actions.assess_worker(rosa, 3, reason="first talk", actor=olga)
    Assessment.objects.filter(pk=old.pk).update(assessed_at=now - dt.timedelta(weeks=5))
    rosa.__class__.objects.filter(pk=rosa.pk).update(added_at=now - dt.timedelta(weeks=8))
    actions.assess_worker(rosa, 1, reason="took the lead", actor=olga)
    trend = figures.trend(place, now=now + dt.timedelta(seconds=1))
    assert len(trend.weeks) == figures.TREND_WEEKS
    assert trend.last == {1: 1, 2: 0, 3: 0, 4: 0, 5: 0, 0: 0}
    # Six weeks before now: added, not assessed yet. Five weeks ago: a 3.
    points = {v: line.split() for v, line in trend.lines.items()}
    top_y = "4.0"  # one worker is the top of the chart
    assert points[0][-7].endswith("," + top_y) and points[3][-6].endswith("," + top_y)
    assert points[3][-1].endswith(",116.0") and points[1][-1].endswith("," + top_y)


def test_the_scale_is_fixed_once_used(net, olga, client_as):  # type: ignore[no-untyped-def]
    policy = actions.set_policy(
        net.network,
        labels_en={"1": "Organising committee"},
        labels_es={"1": "Comité organizador"},
        contact_retention_days=90,
        actor=net.ana,
    )
    assert policy.label(1, "en") == "Organising committee" and policy.label(2, "en") == "Supportive"
    assert policy.label(1, "es") == "Comité organizador"
    rosa = contact(workplace(net.boyle, olga), olga, "Rosa")
    actions.assess_worker(rosa, 2, reason="yes", actor=olga)
    with pytest.raises(actions.OrganisingError) as error:
        actions.set_policy(
            net.network,
            labels_en={"1": "Leader"},
            labels_es={},
            contact_retention_days=90,
            actor=net.ana,
        )
    assert error.value.code == "scale_fixed"
    assert Policy.objects.get().labels_en == {"1": "Organising committee"}
    # The retention may still change.
    actions.set_policy(
        net.network,
        labels_en={"1": "Organising committee"},
        labels_es={"1": "Comité organizador"},
        contact_retention_days=30,
        actor=net.ana,
    )
    assert Policy.objects.get().contact_retention_days == 30


def test_only_the_network_committee_sets_the_scale(net, client_as):  # type: ignore[no-untyped-def]
    from defensa.core import testing

    testing.join(net.ana, net.network, is_coordinator=True)
    assert client_as(net.ana).get(f"/organising/c/{net.network.slug}/scale/").status_code == 200
    assert client_as(net.ana).get(f"/organising/c/{net.boyle.slug}/scale/").status_code == 404
    assert client_as(net.mo).get(f"/organising/c/{net.network.slug}/scale/").status_code == 404
    with pytest.raises(actions.OrganisingError):
        actions.set_policy(
            net.boyle, labels_en={}, labels_es={}, contact_retention_days=30, actor=net.ana
        )


def test_a_worker_page_shows_the_history_and_is_a_recorded_reveal(net, olga, client_as):  # type: ignore[no-untyped-def]
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa", phone="+13235550142")
    actions.assess_worker(rosa, 3, reason="Afraid of the supervisor", actor=olga)
    actions.assess_worker(rosa, 2, reason="Came to the meeting", actor=olga)
    page = client_as(olga).get(f"/organising/workplaces/{place.pk}/workers/{rosa.pk}/")
    text = page.content.decode()
    assert text.index("Came to the meeting") < text.index("Afraid of the supervisor")
    assert "+13235550142" in text
    assert AuditEntry.objects.filter(action="organising.worker_revealed").count() == 1


def test_past_the_reveal_quota_no_name_is_shown(net, olga, client_as, settings):  # type: ignore[no-untyped-def]
    settings.PHONE_REVEALS_PER_HOUR = 1
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa Zq", phone="+13235550142")
    luis = contact(place, olga, "Luis Zq")
    client = client_as(olga)
    assert (
        "Rosa Zq"
        in client.get(f"/organising/workplaces/{place.pk}/workers/{rosa.pk}/").content.decode()
    )
    refused = client.get(f"/organising/workplaces/{place.pk}/workers/{luis.pk}/", follow=True)
    text = refused.content.decode()
    assert "You have revealed too many contacts in the last hour." in text
    assert "Luis Zq" not in text and "Rosa Zq" not in text
    assert AuditEntry.objects.filter(action="organising.worker_reveal_refused").count() == 1


def test_the_scale_page_saves_labels_until_they_are_used(net, olga, client_as):  # type: ignore[no-untyped-def]
    from defensa.core import testing

    testing.join(net.ana, net.network, is_coordinator=True)
    client = client_as(net.ana)
    path = f"/organising/c/{net.network.slug}/scale/"
    form = {f"label_{lang}_{v}": "" for lang in ("en", "es") for v in range(1, 6)}
    client.post(path, {**form, "label_en_1": "On the committee", "contact_retention_days": "90"})
    assert Policy.objects.get().labels_en == {"1": "On the committee"}
    actions.assess_worker(
        contact(workplace(net.boyle, olga), olga, "Rosa"), 1, reason="x", actor=olga
    )
    page = client.post(
        path, {**form, "label_en_1": "Changed", "contact_retention_days": "60"}, follow=True
    ).content.decode()
    assert Policy.objects.get().labels_en == {"1": "On the committee"}  # disabled: kept
    assert Policy.objects.get().contact_retention_days == 60
    assert "its labels can no longer change" in page
    bad = client.post(path, {**form, "contact_retention_days": "9999"}).content.decode()
    assert "Ensure this value is less than or equal to 730." in bad
    assert Policy.objects.get().contact_retention_days == 60


def test_the_pages_speak_spanish(net, olga, client_as):  # type: ignore[no-untyped-def]
    olga.language = "es"
    olga.save()
    place = workplace(net.boyle, olga, headcount=10)
    rosa = contact(place, olga, "Rosa")
    actions.assess_worker(rosa, 1, reason="lidera", actor=olga)
    client = client_as(olga)
    client.cookies["django_language"] = "es"
    page = client.get(f"/organising/workplaces/{place.pk}/", HTTP_ACCEPT_LANGUAGE="es").content
    text = page.decode()
    assert "1 de unos 10 trabajadores evaluados (10%)" in text
    assert "1 – Líder, comprometido" in text and "El mapa de la unidad" in text
