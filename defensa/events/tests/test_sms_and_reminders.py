"""RSVP by text (ended events, unknown codes, members-only events), and reminders 24 h and
2 h before, once each, in each person's language and channel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.events import actions
from defensa.events.models import Event, Rsvp, RsvpStatus
from defensa.events.tests.helpers import add_shift, make_event, move, text
from defensa.events.views import rsvp_gate
from defensa.notify.models import Delivery
from defensa.notify.tests.helpers import run_worker
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db
STRANGER = "+13235550142"
FUZZ = hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_rsvp_by_text_to_a_public_event_in_spanish(net, twilio_peer):
    event = make_event(net.boyle, net.ana, visibility="public")
    assert text(Client(), f"voy {event.code.lower()}", number=STRANGER).status_code == 200
    rsvp = Rsvp.objects.get()
    assert rsvp.status == RsvpStatus.GOING and rsvp.language == "es" and rsvp.user is None
    run_worker()
    (reply,) = [m for m in twilio_peer.messages if m.to == STRANGER]
    assert "confirmado" in reply.body and event.place not in reply.body
    assert Report.objects.count() == 0


def test_a_text_for_an_event_that_ended_is_told_so_and_stores_nothing(net, twilio_peer):
    event = make_event(net.boyle, net.ana, visibility="public")
    move(event, starts_in=dt.timedelta(hours=-5))
    text(Client(), f"RSVP {event.code}", number=STRANGER)
    assert Rsvp.objects.count() == 0
    run_worker()
    (reply,) = [m for m in twilio_peer.messages if m.to == STRANGER]
    assert "is over" in reply.body


def test_members_only_events_answer_strangers_as_unknown(net, twilio_peer):
    event = make_event(net.boyle, net.ana)
    text(Client(), f"RSVP {event.code}", number=STRANGER)
    text(Client(), f"RSVP {event.code}", number=net.vero.phone)
    assert list(Rsvp.objects.values_list("user", flat=True)) == [net.vero.pk]
    run_worker()
    stranger = [m.body for m in twilio_peer.messages if m.to == STRANGER]
    assert len(stranger) == 1 and "no event with that code" in stranger[0]


def test_spanish_sentences_starting_with_voy_still_become_reports(net):
    text(Client(), "Voy caminando y veo a ICE en la 1st", number=STRANGER)
    text(Client(), "voy CERCA de la escuela, hay agentes", number="+13235550177")
    assert Report.objects.count() == 2
    assert Rsvp.objects.count() == 0


@FUZZ
@given(rest=st.text(max_size=40))
def test_any_text_after_the_keyword_is_answered_without_a_crash(net, rest):
    event = make_event(net.boyle, net.ana, visibility="public")
    assert text(Client(), f"RSVP {rest}", number=STRANGER).status_code == 200
    assert Rsvp.objects.filter(event=event).count() <= 1


@FUZZ
@given(phone=st.text(max_size=40))
def test_any_phone_on_the_public_page_is_a_clear_answer(net, phone):
    rsvp_gate.reset()
    event = make_event(net.boyle, net.ana, visibility="public")
    response = Client().post(f"/events/p/{event.code}/", {"phone": phone})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert Rsvp.objects.filter(event=event).count() == 0


@FUZZ
@given(
    fields=st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["picket", "rally", "x", ""]),
            "title": st.text(max_size=130),
            "day": st.sampled_from(["2031-01-01", "2020-01-01", "tomorrow", "", "2031-02-30"]),
            "start": st.sampled_from(["10:00", "25:00", "", "x"]),
            "end": st.sampled_from(["12:00", "09:00", "", "99"]),
            "area": st.text(max_size=20),
            "place": st.text(max_size=20),
            "capacity": st.sampled_from(["", "0", "-1", "5", "1e9", "x"]),
            "languages": st.sampled_from([["en"], ["xx"], []]),
            "visibility": st.sampled_from(["members", "public", "secret"]),
        }
    )
)
def test_any_event_form_is_a_clear_answer(net, fields):
    from defensa.core import testing

    client = Client()
    testing.sign_in(client, net.ana)
    before = Event.objects.count()
    response = client.post(f"/events/new/{net.boyle.slug}/", fields)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert Event.objects.count() == before


def test_reminders_go_once_a_day_and_two_hours_before_in_each_language(net, twilio_peer):
    event = make_event(net.boyle, net.ana, visibility="public")
    shift = add_shift(event, net.ana)
    net.dani.notify_sms = True  # her own choice of channel: texts
    net.dani.save(update_fields=["notify_sms"])
    actions.rsvp_as_member(event, net.dani, shift=shift)  # Spanish, account
    actions.rsvp_by_phone(event, STRANGER, channel="web", language="es")
    actions.rsvp_as_member(event, net.vero)
    Rsvp.objects.filter(user=net.vero).update(status=RsvpStatus.CANCELLED)
    move(event, starts_in=dt.timedelta(hours=20))
    assert actions.send_reminders() == {"24h": 2, "2h": 0}
    assert Delivery.objects.filter(template="event_reminder").count() >= 2
    assert actions.send_reminders() == {"24h": 0, "2h": 0}  # once each
    move(event, starts_in=dt.timedelta(minutes=90))
    assert actions.send_reminders() == {"24h": 0, "2h": 2}
    assert actions.send_reminders() == {"24h": 0, "2h": 0}
    run_worker()
    to_stranger = [m.body for m in twilio_peer.messages if m.to == STRANGER]
    assert len(to_stranger) == 2
    assert any("recordatorio" in body for body in to_stranger)
    assert any("en 2 horas" in body and event.place in body for body in to_stranger)
    to_dani = [m.body for m in twilio_peer.messages if m.to == net.dani.phone]
    assert to_dani and all("Tu turno" in body for body in to_dani)
    assert not [m for m in twilio_peer.messages if m.to == net.vero.phone]


def test_an_event_called_off_tells_who_meant_to_come_and_reminds_nobody(net, twilio_peer):
    event = make_event(net.boyle, net.ana, visibility="public", capacity=1)
    actions.rsvp_by_phone(event, STRANGER, channel="web", language="es")
    actions.rsvp_by_phone(event, "+13235550143", channel="web", language="en")  # waiting
    move(event, starts_in=dt.timedelta(hours=20))
    actions.cancel_event(event, actor=net.ana)
    assert actions.send_reminders() == {"24h": 0, "2h": 0}
    run_worker()
    told = {m.to: m.body for m in twilio_peer.messages}
    assert "se canceló" in told[STRANGER] and "called off" in told["+13235550143"]
    with pytest.raises(actions.EventError):
        actions.rsvp_by_phone(event, "+13235550144", channel="web", language="en")
