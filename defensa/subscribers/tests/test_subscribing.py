"""Alert subscribers without an account: by text, on the web form, STOP, and what they get."""

from __future__ import annotations

import re

import pytest

from defensa.audit.models import AuditEntry
from defensa.core import crypto
from defensa.core.crypto.models import DataKey
from defensa.dispatch.actions import confirm_and_respond
from defensa.dispatch.models import AreaAlert
from defensa.dispatch.tests.helpers import report_incident
from defensa.notify import messages
from defensa.notify.models import Delivery, OptOut, Priority
from defensa.reports.models import Report
from defensa.subscribers import actions
from defensa.subscribers.models import Subscription
from defensa.subscribers.tests.helpers import text

pytestmark = pytest.mark.django_db

NEIGHBOUR = "+13235550142"
OTHER = "+13235550177"


def replies() -> list[str]:
    return [
        messages.render(d).body
        for d in Delivery.objects.filter(template="subscriber_reply").order_by("pk")
    ]


def test_alerta_with_a_zip_subscribes_the_number_sealed_and_answers_in_spanish(client, net):
    response = text(client, "ALERTA 90033", number=NEIGHBOUR)
    assert response.status_code == 200
    [sub] = Subscription.objects.all()
    assert sub.is_confirmed and (sub.zip_code, sub.language) == ("90033", "es")
    assert sub.committee == net.boyle
    # Sealed under its own key, found by a keyed digest: the number is nowhere in clear.
    assert crypto.unseal(sub, "phone") == NEIGHBOUR
    assert NEIGHBOUR not in str(Subscription.objects.values().get())
    assert "3235550142" not in sub.digest
    assert Report.objects.count() == 0  # the keyword never becomes a report
    [reply] = Delivery.objects.filter(template="subscriber_reply")
    assert reply.resolve_address() == NEIGHBOUR and reply.address_hint == "•••"
    assert reply.data_key_id == sub.data_key_id
    assert "alertas verificadas cerca de 90033" in messages.render(reply).body
    # The audit chain names the action, never the number or the ZIP code.
    entries = " ".join(str(e.data) for e in AuditEntry.objects.all())
    assert "3235550142" not in entries and "90033" not in entries


def test_alerta_twenty_times_is_one_subscription_and_one_answer(client, net):
    for _ in range(20):
        text(client, "ALERTA 90033", number=NEIGHBOUR)
    assert Subscription.objects.count() == 1
    assert Delivery.objects.filter(template="subscriber_reply").count() == 1
    text(client, "alert 90033", number="(323) 555-0142")  # the same number, written otherwise
    assert Subscription.objects.count() == 1


def test_bad_zip_codes_get_a_clear_answer_and_store_nothing(client, net):
    text(client, "ALERT 99999", number=NEIGHBOUR)  # not a ZIP code
    text(client, "ALERT 10001", number=OTHER)  # New York: no committee's area
    assert Subscription.objects.count() == 0
    first, second = replies()
    assert "text ALERT and your 5-digit ZIP code" in first
    assert "no defense committee covers that ZIP code" in second
    # Twenty more bad texts from one number: a few answers, no flood.
    for _ in range(20):
        text(client, "ALERT 1", number=NEIGHBOUR)
    assert len(replies()) <= 4


def test_a_report_that_starts_with_alerta_stays_a_report(client, net):
    text(client, "ALERTA la migra esta en la escuela Soto y 1st", number=NEIGHBOUR)
    assert Subscription.objects.count() == 0
    assert Report.objects.count() == 1


def test_stop_ends_the_subscription_at_once_and_shreds_the_number(client, net):
    text(client, "ALERTA 90033", number=NEIGHBOUR)
    sub = Subscription.objects.get()
    key = sub.data_key_id
    text(client, "ALTO", number=NEIGHBOUR)
    assert Subscription.objects.count() == 0
    assert DataKey.objects.get(pk=key).wrapped is None
    assert OptOut.objects.count() == 1
    # Texting the keyword again subscribes again (and lifts the opt-out).
    text(client, "ALERTA 90033", number=NEIGHBOUR)
    assert Subscription.objects.filter(confirmed_at__isnull=False).count() == 1
    assert OptOut.objects.count() == 0


def code_of(delivery: Delivery) -> str:
    return re.search(r"\b(\d{6})\b", messages.render(delivery).body).group(1)  # type: ignore[union-attr]


def test_the_web_form_texts_a_code_and_the_code_confirms(client, net):
    page = client.get("/alerts/subscribe/")
    assert page.status_code == 200 and "ALERTA" in page.content.decode()
    sent = client.post(
        "/alerts/subscribe/", {"phone": "(323) 555-0142", "zip_code": "90033", "language": "es"}
    )
    assert sent.status_code == 200
    ticket = re.search(r'name="ticket" value="([^"]+)"', sent.content.decode()).group(1)  # type: ignore[union-attr]
    sub = Subscription.objects.get()
    assert not sub.is_confirmed
    [code_message] = Delivery.objects.filter(template="subscriber_code")
    assert code_message.resolve_address() == NEIGHBOUR and code_message.address_hint == "•••"
    assert code_message.priority == Priority.URGENT
    code = code_of(code_message)
    assert code not in str(Subscription.objects.values().get())  # only its digest is kept
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post("/alerts/subscribe/confirm/", {"ticket": ticket, "code": wrong})
    assert bad.status_code == 400 and "not the code we texted" in bad.content.decode()
    done = client.post("/alerts/subscribe/confirm/", {"ticket": ticket, "code": code})
    assert done.status_code == 200 and "90033" in done.content.decode()
    sub.refresh_from_db()
    assert sub.is_confirmed and sub.language == "es"


def test_the_web_form_refuses_bad_input_clearly_and_stores_nothing(client, net):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    cases = [
        ({"phone": "call me", "zip_code": "90033", "language": "en"}, "número"),
        ({"phone": NEIGHBOUR, "zip_code": "abc", "language": "en"}, "código postal"),
        ({"phone": NEIGHBOUR, "zip_code": "10001", "language": "en"}, "Ningún comité"),
        ({"phone": NEIGHBOUR, "zip_code": "90033", "language": "xx"}, "opción válida"),
        ({}, "obligatorio"),
    ]
    for data, words in cases:
        page = client.post("/alerts/subscribe/", data)
        assert page.status_code == 400, data
        assert words in page.content.decode(), data
    assert Subscription.objects.count() == 0 and Delivery.objects.count() == 0
    forged = client.post("/alerts/subscribe/confirm/", {"ticket": "1:forged", "code": "123456"})
    assert forged.status_code == 400 and "caducado" in forged.content.decode()


def test_the_form_cannot_flood_a_phone_with_codes_or_guess_one(client, net):
    for _ in range(6):
        client.post(
            "/alerts/subscribe/", {"phone": NEIGHBOUR, "zip_code": "90033", "language": "en"}
        )
    assert Subscription.objects.count() == 1
    assert Delivery.objects.filter(template="subscriber_code").count() == 3
    sub = Subscription.objects.get()
    for _ in range(5):
        assert actions.confirm_web_subscription(sub, "999999").word in ("wrong",)
    with pytest.raises(actions.SubscribeError):
        actions.confirm_web_subscription(sub, "999999")


def test_one_source_posting_fast_is_slowed(client, net):
    codes = [
        client.post(
            "/alerts/subscribe/",
            {"phone": f"+1323555{n:04d}", "zip_code": "90033", "language": "en"},
        ).status_code
        for n in range(12)
    ]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]


def test_a_number_already_subscribed_sees_the_same_page_and_gets_no_code(client, net):
    text(client, "ALERT 90033", number=NEIGHBOUR)
    page = client.post(
        "/alerts/subscribe/", {"phone": NEIGHBOUR, "zip_code": "90033", "language": "en"}
    )
    assert page.status_code == 200 and "a 6-digit code is on its way" in page.content.decode()
    assert not Delivery.objects.filter(template="subscriber_code").exists()


def test_coordinators_see_counts_per_zip_never_numbers(client_as, net, client):
    text(client, "ALERTA 90033", number=NEIGHBOUR)
    text(client, "ALERT 90033", number=OTHER)
    page = client_as(net.ana).get("/alerts/subscribers/boyle-heights/")
    body = page.content.decode()
    assert page.status_code == 200 and re.search(r"<td>90033</td><td>2</td>", body)
    assert "0142" not in body and "0177" not in body
    for person in (net.dani, net.vero, net.pat):
        assert client_as(person).get("/alerts/subscribers/boyle-heights/").status_code == 404
    assert client_as(net.ana).get("/alerts/subscribers/east-la/").status_code == 404


def test_a_confirmed_incident_alerts_subscribers_near_it_in_their_language(client, net):
    text(client, "ALERTA 90033", number=NEIGHBOUR)
    text(client, "ALERT 90022", number=OTHER)  # East LA: two cells away
    client.post(
        "/alerts/subscribe/", {"phone": "+13235550199", "zip_code": "90033", "language": "en"}
    )
    AreaAlert.objects.create(user=net.vero, cell=Subscription.objects.first().cell)  # type: ignore[union-attr]
    incident = report_incident()
    confirm_and_respond(incident, actor=net.dani)
    alerts = list(Delivery.objects.filter(template="subscriber_alert"))
    assert [d.resolve_address() for d in alerts] == [NEIGHBOUR]  # not the unconfirmed one
    [alert] = alerts
    assert alert.priority == Priority.URGENT_MANY and alert.address_hint == "•••"
    body = messages.render(alert).body
    assert "verificado" in body and "Responde ALTO" in body
    member = Delivery.objects.get(template="incident_alert", recipient=net.vero)
    assert member.priority == Priority.URGENT_MANY
    entry = incident.timeline.get(detail__step="alerted")
    assert entry.detail["subscribers"] == 1 and entry.detail["members"] == 1
    # Confirming again (a retry) queues nothing more.
    from defensa.dispatch.response import respond_to_confirmed

    respond_to_confirmed(incident, actor=net.dani)
    assert Delivery.objects.filter(template="subscriber_alert").count() == 1
    # After STOP the queued alert cannot be sent: the number's key is shredded.
    text(client, "STOP", number=NEIGHBOUR)
    alert.refresh_from_db()
    assert alert.resolve_address() == ""


def test_a_member_who_also_subscribed_gets_one_alert(client, net):
    from defensa.accounts.models import User

    User.objects.filter(pk=net.vero.pk).update(phone=NEIGHBOUR, notify_sms=True)
    text(client, "ALERTA 90033", number=NEIGHBOUR)
    text(client, "ALERTA 90063", number=NEIGHBOUR)  # the same neighbourhood, another ZIP
    text(client, "ALERTA 90063", number=OTHER)
    text(client, "ALERTA 90033", number=OTHER)
    AreaAlert.objects.create(user=net.vero, cell=Subscription.objects.first().cell)  # type: ignore[union-attr]
    incident = report_incident()
    confirm_and_respond(incident, actor=net.dani)
    assert Delivery.objects.filter(template="incident_alert", channel="sms").count() == 1
    [alert] = Delivery.objects.filter(template="subscriber_alert")
    assert alert.resolve_address() == OTHER
    assert incident.timeline.get(detail__step="alerted").detail["subscribers"] == 1


@pytest.mark.parametrize("code", ["zh-hans", "zh-hant", "ar", "ht"])
def test_a_subscription_keeps_any_of_the_ten_languages(net, code: str) -> None:
    """Codes up to "zh-hant" (7 characters) fit the column on PostgreSQL too; an unknown code
    is English."""
    outcome = actions.subscribe_by_text(NEIGHBOUR, "90033", language=code)
    assert Subscription.objects.get(pk=outcome.subscription.pk).language == code
    outcome = actions.subscribe_by_text(OTHER, "90033", language="xx-unknown")
    assert Subscription.objects.get(pk=outcome.subscription.pk).language == "en"
