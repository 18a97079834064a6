"""Structure tests: participation by the organiser, by the worker's own link and by an SMS
keyword through notify.inbound; predicted vs actual; the worker's record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from defensa.notify.models import Delivery
from defensa.organising import actions, figures
from defensa.organising.models import Participation, StructureTest, Via
from defensa.organising.tests.helpers import (
    contact,
    make_organiser,
    structure_test,
    text,
    workplace,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(net):  # type: ignore[no-untyped-def]
    return make_organiser("olga", net.boyle)


@pytest.fixture
def unit(net, olga):  # type: ignore[no-untyped-def]
    place = workplace(net.boyle, olga)
    people = [
        contact(
            place,
            olga,
            f"Person {i} Zq",
            phone=f"+1323555{i:04d}",
            dep="Kitchen" if i < 3 else "Packing",
        )
        for i in range(4)
    ]
    for person, value in zip(people, (1, 2, 2, 4), strict=True):
        actions.assess_worker(person, value, reason="talked", actor=olga)
    return place, people


def test_predicted_vs_actual(net, olga, unit):  # type: ignore[no-untyped-def]
    place, (w0, w1, w2, w3) = unit
    test = structure_test(net.boyle, olga, [place], goal_percent=50)
    actions.record_participation(test, w0, actor=olga)
    actions.record_participation(test, w3, actor=olga)
    c = figures.predicted_vs_actual(test)
    assert (c.unit, c.goal, c.predicted, c.actual) == (4, 2, 3, 2)
    assert c.inflated == sorted([w1.pk, w2.pk])  # assessed 2, did not take part
    assert c.surprising == [w3.pk]  # assessed 4, took part
    rows = {r.value: (r.workers, r.took_part) for r in c.rows}
    assert rows[1] == (1, 1) and rows[2] == (2, 0) and rows[4] == (1, 1)


def test_a_department_only_test(net, olga, unit):  # type: ignore[no-untyped-def]
    place, (_w0, _w1, _w2, w3) = unit
    test = structure_test(net.boyle, olga, [place], departments=["Kitchen"])
    assert figures.predicted_vs_actual(test).unit == 3
    with pytest.raises(actions.OrganisingError) as error:
        actions.record_participation(test, w3, actor=olga)
    assert error.value.code == "unit"


def test_by_sms_keyword_through_the_inbound_registry(net, olga, unit, client):  # type: ignore[no-untyped-def]
    _place, (w0, _w1, _w2, _w3) = unit
    test = structure_test(net.boyle, olga, [unit[0]])
    response = text(Client(), f"accion {test.code.lower()}", number="+13235550000")
    assert response.status_code == 200
    taken = Participation.objects.get()
    assert taken.worker == w0 and taken.via == Via.SMS
    # A second text counts once; the answers go out in the keyword's language.
    text(Client(), f"ACTION {test.code}", number="+13235550000")
    assert Participation.objects.count() == 1
    replies = Delivery.objects.filter(template="structure_test_sms_reply")
    assert replies.count() == 2 and {d.language for d in replies} == {"es", "en"}
    # A text from a number nobody recorded, or with a wrong code, records nothing.
    text(Client(), f"ACTION {test.code}", number="+13235559999")
    text(Client(), "ACTION ZZZZZ", number="+13235550001")
    assert Participation.objects.count() == 1
    # No report was made of any of these texts.
    from defensa.reports.models import Report

    assert not Report.objects.exists()


def test_by_the_workers_own_link(net, olga, unit, client):  # type: ignore[no-untyped-def]
    _place, (w0, w1, _w2, _w3) = unit
    test = structure_test(net.boyle, olga, [unit[0]])
    link = f"/organising/t/{actions.link_token(test, w1)}/"
    page = client.get(link)
    assert page.status_code == 200 and test.title in page.content.decode()
    assert "Person 1 Zq" not in page.content.decode()
    client.post(link)
    assert Participation.objects.get().worker == w1
    assert Participation.objects.get().via == Via.WEB
    # A made-up or altered link is refused and records nothing.
    token = actions.link_token(test, w0)
    assert client.post(f"/organising/t/{token[:-2]}xx/").status_code == 404
    assert client.get("/organising/t/nonsense/").status_code == 404
    assert Participation.objects.count() == 1


def test_links_go_out_through_the_delivery_engine(net, olga, unit, client_as):  # type: ignore[no-untyped-def]
    test = structure_test(net.boyle, olga, [unit[0]])
    client_as(olga).post(f"/organising/tests/{test.pk}/links/")
    sent = Delivery.objects.filter(template="structure_test_link")
    assert sent.count() == 4
    # The outbox holds ids, not the link's token nor a number in the clear.
    assert all(set(d.context) == {"test", "worker"} for d in sent)
    client_as(olga).post(f"/organising/tests/{test.pk}/links/")
    assert sent.count() == 4  # sent once per worker


def test_after_the_deadline_nothing_is_recorded(net, olga, unit, client):  # type: ignore[no-untyped-def]
    test = structure_test(net.boyle, olga, [unit[0]])
    StructureTest.objects.filter(pk=test.pk).update(
        deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    test.refresh_from_db()
    with pytest.raises(actions.OrganisingError) as error:
        actions.record_participation(test, unit[1][0], actor=olga)
    assert error.value.code == "closed"
    text(Client(), f"ACTION {test.code}", number="+13235550000")
    assert not Participation.objects.exists()
    reply = Delivery.objects.get(template="structure_test_sms_reply")
    assert reply.context["outcome"] == "closed"


def test_the_organiser_records_and_corrects(net, olga, unit, client_as):  # type: ignore[no-untyped-def]
    test = structure_test(net.boyle, olga, [unit[0]])
    client = client_as(olga)
    w0 = unit[1][0]
    client.post(f"/organising/tests/{test.pk}/workers/{w0.pk}/")
    assert Participation.objects.get().via == Via.ORGANISER
    page = client.get(f"/organising/tests/{test.pk}/").content.decode()
    assert (
        "Took part: 1 (25%)" in page and "Predicted from the assessments (1 and 2): 3 (75%)" in page
    )
    client.post(f"/organising/tests/{test.pk}/workers/{w0.pk}/", {"remove": "1"})
    assert not Participation.objects.exists()


def test_a_workers_record_over_the_last_actions(net, olga, unit):  # type: ignore[no-untyped-def]
    place, (w0, _w1, _w2, _w3) = unit
    for i in range(5):
        test = structure_test(net.boyle, olga, [place], title=f"Action {i}")
        StructureTest.objects.filter(pk=test.pk).update(
            created_at=timezone.now() - dt.timedelta(days=10 - i)
        )
        if i != 3:
            actions.record_participation(test, w0, actor=olga)
    record = figures.participation_record(w0)
    assert (record.took_part, record.of) == (3, 4)


def test_a_test_for_another_committees_workplace_is_refused(net, olga, unit):  # type: ignore[no-untyped-def]
    eddie = make_organiser("eddie", net.east)
    with pytest.raises(actions.OrganisingError) as error:
        structure_test(net.east, eddie, [unit[0]])
    assert error.value.code == "workplaces"
    assert not StructureTest.objects.exists()


def test_a_member_sees_their_own_history(net, olga, client_as):  # type: ignore[no-untyped-def]
    place = workplace(net.boyle, olga)
    worker = actions.add_member(
        place, net.mo.memberships.get(), department="Kitchen", shift="Day", actor=olga
    )
    actions.assess_worker(worker, 2, reason="private note", actor=olga)
    test = structure_test(net.boyle, olga, [place])
    actions.record_participation(test, worker, actor=olga)
    page = client_as(net.mo).get("/organising/me/").content.decode()
    assert "2 – Supportive" in page and test.title in page
    assert "private note" not in page
    other = client_as(net.dani).get("/organising/me/").content.decode()
    assert "Supportive" not in other and "You are not recorded at any workplace." in other
