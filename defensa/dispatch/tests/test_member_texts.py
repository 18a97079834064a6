"""A text from one of our members that answers nothing open is a message from that member to
their committee's dispatchers, on the console: never an anonymous report.

Every text goes through the real signed Twilio webhook; answers and alerts leave through the
delivery engine.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from defensa.audit.models import AuditEntry
from defensa.core import testing
from defensa.dispatch.models import MemberMessage
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.notify.tests.helpers import run_worker
from defensa.reports.models import Report
from defensa.reports.tests.test_sms import _webhook, new_sid
from defensa.reports.tests.test_sms import text as signed_text
from defensa.voice.actions import set_hotline

pytestmark = pytest.mark.django_db
__all__ = ["_webhook"]  # the webhook's settings, autouse

MO_AS_TYPED = "(213) 555-0199"


def text(client, body: str, *, number: str, **kw):  # type: ignore[no-untyped-def]
    response = signed_text(client, body, number=number, **kw)
    assert response.status_code == 200
    return response


def _bodies(template: str) -> list[str]:
    return [
        messages.render(d).body.strip()
        for d in Delivery.objects.filter(template=template).order_by("id")
    ]


@pytest.fixture
def mo(net):  # type: ignore[no-untyped-def]
    """A member with no offer, no check-in and no plan; his phone written as people type it."""
    net.mo.phone = MO_AS_TYPED
    net.mo.save(update_fields=["phone"])
    return net.mo


def test_a_members_text_is_a_message_to_the_dispatchers_not_a_report(client, client_as, net, mo):
    text(client, "La migra está afuera de la escuela, Soto y 4th", number="+12135550199")
    assert not Report.objects.exists()
    [message] = MemberMessage.objects.all()
    assert (message.member, message.committee) == (mo, net.boyle)
    assert message.body == "La migra está afuera de la escuela, Soto y 4th"
    assert AuditEntry.objects.filter(action="dispatch.member_text").count() == 1
    # Dani, Boyle Heights' dispatcher, is told; Mo is answered in his language.
    [alert] = Delivery.objects.filter(template="dispatch_member_text")
    assert alert.recipient == net.dani
    assert "Mo" in messages.render(alert).body
    assert _bodies("dispatch_member_text_reply") == [
        "Defensa: your message reached the dispatchers of Boyle Heights. "
        "To report what you see, include where."
    ]
    # On the console, as Mo's message.
    page = client_as(net.dani).get(reverse("dispatch:console", args=["boyle-heights"]))
    html = page.content.decode()
    assert "Texts from your members" in html
    assert f'id="member-message-{message.pk}"' in html and "Soto y 4th" in html


def test_the_answer_reaches_the_members_phone_through_the_peer(client, net, mo, twilio_peer):
    text(client, "hola", number="+12135550199")
    run_worker()
    bodies = {m.to: m.body for m in twilio_peer.messages}
    assert "reached the dispatchers of Boyle Heights" in bodies["+12135550199"]


def test_other_committees_dispatchers_do_not_see_it(client, client_as, net, mo):
    east_dispatcher = testing.make_user("eda")
    testing.join(east_dispatcher, net.east, is_dispatcher=True)
    text(client, "hola", number="+12135550199")
    page = client_as(east_dispatcher).get(reverse("dispatch:console", args=["east-la"]))
    assert "member-message-" not in page.content.decode()
    assert not Delivery.objects.filter(recipient=east_dispatcher).exists()


def test_the_number_texted_chooses_among_the_members_committees(client, net, mo):
    testing.join(mo, net.east)
    set_hotline(net.east, "+12135550160")
    text(client, "estoy en la junta", number="+12135550199", to="+12135550160")
    assert MemberMessage.objects.get().committee == net.east


def test_a_retried_text_is_kept_once(client, net, mo):
    sid = new_sid()
    text(client, "hola", number="+12135550199", sid=sid)
    text(client, "hola", number="+12135550199", sid=sid)
    assert MemberMessage.objects.count() == 1
    assert len(_bodies("dispatch_member_text_reply")) == 1


def test_a_switched_off_members_text_is_no_members_message(client, net, mo):
    mo.is_active = False
    mo.save(update_fields=["is_active"])
    text(client, "ICE at Soto and 1st", number="+12135550199")
    assert not MemberMessage.objects.exists()
    assert Report.objects.count() == 1  # like anyone's: the account is off, the text is not lost


def test_a_strangers_text_is_still_a_report(client, net, mo):
    text(client, "ICE at Soto and 1st", number="+13235550999")
    assert Report.objects.count() == 1 and not MemberMessage.objects.exists()


def test_a_number_sharing_the_last_digits_is_not_the_member(client, net, mo):
    text(client, "ICE at Soto and 1st", number="+13105550199")
    assert Report.objects.count() == 1 and not MemberMessage.objects.exists()


def test_spanish_member_and_dispatcher_read_spanish(client, client_as, net, mo):
    mo.language = "es"
    mo.save(update_fields=["language"])
    text(client, "hola", number="+12135550199")
    assert _bodies("dispatch_member_text_reply") == [
        "Defensa: tu mensaje llegó a las despachadoras de Boyle Heights. "
        "Para reportar lo que ves, di dónde."
    ]
    page = client_as(net.dani).get(
        reverse("dispatch:console", args=["boyle-heights"]), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert "Textos de tus miembros" in page.content.decode()


def test_an_archived_committee_takes_no_members_texts(client, net, mo):
    testing.join(mo, net.east)
    net.boyle.archived_at = net.boyle.created_at
    net.boyle.save(update_fields=["archived_at"])
    text(client, "hola", number="+12135550199")
    assert MemberMessage.objects.get().committee == net.east


def test_a_city_console_shows_its_locals_members_texts_and_a_sibling_does_not(
    client, client_as, net, mo
):
    """One picture of the city: Carla, the city's dispatcher, reads Mo's text (a Boyle Heights
    member) on the city's console, marked with his committee, as she sees Boyle Heights'
    incidents; East LA's dispatcher, a sibling, does not; the city's filter narrows it."""
    carla = testing.make_user("carla")
    testing.join(carla, net.city, is_dispatcher=True)
    eli = testing.make_user("eli")
    testing.join(eli, net.east, is_dispatcher=True)
    text(client, "Veo dos camionetas en Cesar Chavez", number="+12135550199")
    [message] = MemberMessage.objects.all()
    assert message.committee == net.boyle

    city = client_as(carla).get(reverse("dispatch:console", args=["la-city"]))
    html = city.content.decode()
    assert f'id="member-message-{message.pk}"' in html and "Cesar Chavez" in html
    assert '<span class="committee">Boyle Heights</span>' in html
    # The live refresh (the queue fragment) and the filter by committee agree.
    fragment = client_as(carla).get("/dispatch/la-city/queue/?committee=boyle-heights")
    assert f'id="member-message-{message.pk}"' in fragment.content.decode()
    only_east = client_as(carla).get("/dispatch/la-city/?committee=east-la")
    assert "member-message-" not in only_east.content.decode()
    # Boyle Heights' own console shows it without the committee's name (it is its own).
    own = client_as(net.dani).get(reverse("dispatch:console", args=["boyle-heights"]))
    assert f'id="member-message-{message.pk}"' in own.content.decode()
    assert '<span class="committee">' not in own.content.decode()
    # A sibling's dispatcher sees nothing, on their console or by asking for the city's.
    sibling = client_as(eli).get(reverse("dispatch:console", args=["east-la"]))
    assert "member-message-" not in sibling.content.decode()
    assert client_as(eli).get(reverse("dispatch:console", args=["la-city"])).status_code == 404
    # The one helper answers the same: the city's dispatcher, yes; the sibling's, no.
    from defensa.dispatch.access import member_messages_for

    assert list(member_messages_for(carla, net.city)) == [message]
    assert list(member_messages_for(eli, net.east)) == []
    assert list(member_messages_for(eli, net.city)) == []
    assert list(member_messages_for(net.omar, net.city)) == []  # a coordinator, no dispatcher
