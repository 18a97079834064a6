"""The legal team schedules, volunteers sign up, the legal team confirms; access walls."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from defensa.accompaniment import actions
from defensa.accompaniment.models import Appointment, Companion, CompanionStatus, Place, Status
from defensa.accompaniment.tests.helpers import CANARY_NAME, accompanier, court, schedule
from defensa.audit.models import AuditEntry
from defensa.core import crypto
from defensa.notify import messages
from defensa.notify.models import Delivery

pytestmark = pytest.mark.django_db


def _audits(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def test_the_legal_team_schedules_with_the_identity_sealed(client_as, net):
    place = court()
    client = client_as(net.lucia)
    day = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    response = client.post(
        "/accompaniment/c/boyle-heights/new/",
        {
            "kind": "checkin",
            "place": place.pk,
            "date": day,
            "time": "08:30",
            "hours": "2",
            "languages": ["es", "quc"],
            "companions_needed": "3",
            "person_name": "Rosa Canary",
            "a_number": "123 456 789",
            "contact1_name": "Juan",
            "contact1_address": "(323) 555-0140",
            "contact1_language": "es",
            "contact2_name": "",
            "contact2_address": "",
            "contact2_language": "en",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = Appointment.objects.get()
    local = appointment.starts_at.astimezone(net.boyle.tz)
    assert (local.date().isoformat(), local.strftime("%H:%M")) == (day, "08:30")
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(hours=2)
    assert appointment.language_codes == ["es", "quc"]
    assert appointment.companions_needed == 3
    assert b"Rosa" not in bytes(appointment.person_name)
    assert crypto.unseal(appointment, "person_name") == "Rosa Canary"
    assert crypto.unseal(appointment, "a_number") == "A123456789"
    assert crypto.unseal_json(appointment, "contacts") == [
        {"name": "Juan", "address": "(323) 555-0140", "channel": "sms", "language": "es"}
    ]
    assert _audits("accompaniment.scheduled") == 1
    # The page itself does not show the name until the legal team asks (and that is audited).
    page = client.get(response["Location"]).content.decode()
    assert "Rosa Canary" not in page
    shown = client.post(response["Location"] + "reveal/").content.decode()
    assert "Rosa Canary" in shown and "A123456789" in shown
    assert _audits("accompaniment.identity_revealed") == 1


def test_bad_appointment_input_is_refused_and_changes_nothing(client_as, net):
    client = client_as(net.lucia)
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = client.post(
        "/accompaniment/c/boyle-heights/new/",
        {"kind": "hearing", "place": court().pk, "date": past, "time": "09:00", "hours": "3",
         "companions_needed": "2", "a_number": "12", "contact1_address": "not a phone"},
    )  # fmt: skip
    assert response.status_code == 400
    body = response.content.decode()
    assert "have not passed" in body
    assert "8 or 9 digits" in body
    assert "phone number (with area code) or an email" in body
    assert Appointment.objects.count() == 0


def test_a_case_reference_links_the_appointment(client_as, net):
    from defensa.cases.tests.helpers import canary_case

    case = canary_case(net)
    client = client_as(net.lucia)
    day = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    data = {
        "kind": "hearing", "place": court().pk, "date": day, "time": "09:00", "hours": "3",
        "companions_needed": "2", "contact1_language": "es", "contact2_language": "es",
    }  # fmt: skip
    wrong = client.post(
        "/accompaniment/c/boyle-heights/new/", {**data, "case_reference": "CZZZZZZ"}
    )
    assert wrong.status_code == 400
    assert "No open case" in wrong.content.decode()
    ok = client.post(
        "/accompaniment/c/boyle-heights/new/", {**data, "case_reference": case.reference.lower()}
    )
    assert ok.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.case == case
    # The scheduling is an entry of the case's timeline, sealed by the action's one record.
    assert case.timeline.filter(detail__accompaniment=appointment.pk).count() == 1
    from defensa.cases.timeline import verify_timeline

    assert verify_timeline(case) == []


def test_accompaniers_see_open_appointments_without_identity_and_sign_up(client_as, net):
    appointment = schedule(net)
    accompanier(net.vero)
    client = client_as(net.vero)
    page = client.get("/accompaniment/").content.decode()
    assert "Los Angeles Immigration Court" in page
    assert "Mixtec" in page or "Mixteco" in page
    assert "2 more companions needed" in page or "2 acompañantes más" in page
    assert CANARY_NAME not in page
    response = client.post(f"/accompaniment/{appointment.pk}/sign-up/")
    assert response.status_code == 302
    companion = Companion.objects.get()
    assert companion.status == CompanionStatus.PENDING
    assert _audits("accompaniment.signed_up") == 1
    assert not Delivery.objects.exists()  # nothing goes out before the legal team confirms
    # A second tap is the same sign-up.
    client.post(f"/accompaniment/{appointment.pk}/sign-up/")
    assert Companion.objects.count() == 1
    assert _audits("accompaniment.signed_up") == 1

    legal = client_as(net.lucia)
    path = f"/accompaniment/c/boyle-heights/{appointment.pk}/companions/{companion.pk}/confirm/"
    assert legal.post(path).status_code == 302
    companion.refresh_from_db()
    assert companion.status == CompanionStatus.CONFIRMED
    assert companion.confirmed_by == net.lucia
    [message] = Delivery.objects.filter(template=actions.CONFIRMED_MESSAGE)
    assert message.recipient == net.vero
    body = messages.render(message).body
    assert actions.checkin_link(companion) in body
    assert "te confirmó" in body  # vero reads Spanish
    assert CANARY_NAME not in body
    assert _audits("accompaniment.confirmed") == 1
    legal.post(path)  # a double tap
    assert _audits("accompaniment.confirmed") == 1


def test_auto_confirm_setting(net, settings):
    settings.ACCOMPANIMENT_AUTO_CONFIRM = True
    appointment = schedule(net)
    from django.db import transaction

    with transaction.atomic():
        companion = actions.sign_up(appointment, accompanier(net.vero), actor=net.vero)
    assert companion.status == CompanionStatus.CONFIRMED
    assert Delivery.objects.filter(template=actions.CONFIRMED_MESSAGE).count() == 1


def test_a_full_appointment_refuses_more_companions(client_as, net):
    appointment = schedule(net, companions_needed=1)
    from defensa.accompaniment.tests.helpers import confirmed

    confirmed(net, appointment, accompanier(net.vero))
    client = client_as(accompanier(net.mo))
    assert "I can go" not in client.get("/accompaniment/").content.decode()
    client.post(f"/accompaniment/{appointment.pk}/sign-up/")
    assert Companion.objects.filter(volunteer=net.mo).count() == 0


def test_withdrawing_after_confirmation_tells_the_legal_team(client_as, net):
    from defensa.accompaniment.tests.helpers import confirmed

    appointment = schedule(net)
    companion = confirmed(net, appointment)
    client = client_as(net.vero)
    assert client.post(f"/accompaniment/mine/{companion.pk}/withdraw/").status_code == 302
    companion.refresh_from_db()
    assert companion.status == CompanionStatus.WITHDRAWN
    [alert] = Delivery.objects.filter(template=actions.WITHDRAWN_MESSAGE)
    assert alert.recipient == net.lucia
    # The check-in link stops working.
    token = actions.companion_token(companion)
    assert client.get(f"/a/{token}/").status_code == 410
    # Signing up again gives a new link; the old one stays dead.
    client.post(f"/accompaniment/{appointment.pk}/sign-up/")
    companion.refresh_from_db()
    assert companion.status == CompanionStatus.PENDING
    assert actions.find_companion(token) is None


def test_cancelling_tells_confirmed_companions(client_as, net):
    from defensa.accompaniment.tests.helpers import confirmed

    appointment = schedule(net)
    confirmed(net, appointment)
    client = client_as(net.lucia)
    client.post(f"/accompaniment/c/boyle-heights/{appointment.pk}/cancel/")
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.sequence >= 2
    assert Delivery.objects.filter(template=actions.CANCELLED_MESSAGE).count() == 1
    assert _audits("accompaniment.cancelled") == 1


@pytest.mark.parametrize("who", ["pat", "mo", "omar", "dani", "ana"])
def test_only_the_legal_team_reaches_the_calendar(client_as, net, who):
    appointment = schedule(net)
    client = client_as(getattr(net, who))
    for path in (
        "/accompaniment/c/boyle-heights/",
        "/accompaniment/c/boyle-heights/new/",
        f"/accompaniment/c/boyle-heights/{appointment.pk}/",
    ):
        assert client.get(path).status_code == 404
    assert (
        client.post(f"/accompaniment/c/boyle-heights/{appointment.pk}/reveal/").status_code == 404
    )


def test_volunteers_need_a_current_skill_in_the_committee(client_as, net):
    appointment = schedule(net)
    # No skill: no list, no sign-up.
    client = client_as(net.mo)
    assert client.get("/accompaniment/").status_code == 404
    assert client.post(f"/accompaniment/{appointment.pk}/sign-up/").status_code == 404
    # An expired training counts as no skill.
    accompanier(net.mo, expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert client.get("/accompaniment/").status_code == 404
    # Another compartment's accompanier does not see Boyle Heights' appointments.
    omar = client_as(accompanier(net.omar))
    assert "Olive St" not in omar.get("/accompaniment/").content.decode()
    assert omar.post(f"/accompaniment/{appointment.pk}/sign-up/").status_code == 404
    # A member on probation with the skill neither.
    pat = client_as(accompanier(net.pat))
    assert pat.get("/accompaniment/").status_code == 404
    assert Companion.objects.count() == 0


def test_places_are_added_by_the_legal_team(client_as, net):
    client = client_as(net.lucia)
    client.post(
        "/accompaniment/c/boyle-heights/places/",
        {
            "name": "ICE Los Angeles Field Office",
            "kind": "office",
            "address": "300 N Los Angeles St",
        },
    )
    assert Place.objects.filter(name="ICE Los Angeles Field Office", kind="office").exists()
    assert _audits("accompaniment.place_added") == 1


def test_revealing_an_identity_counts_against_the_one_quota(client_as, net, settings):
    # Issue 9, point 8: the reveal of name, A-number and contacts had no quota at all.
    from defensa.audit.reveals import RevealQuota, record_reveal

    settings.PHONE_REVEALS_PER_HOUR = 2
    record_reveal("member.phone", actor=net.lucia, obj=net.mo)  # one record opened already
    first = schedule(net)
    second = schedule(net, starts_in=dt.timedelta(days=4))
    client = client_as(net.lucia)
    base = "/accompaniment/c/boyle-heights/"
    for _ in range(2):  # the same appointment again is audited, not counted again
        shown = client.post(f"{base}{first.pk}/reveal/").content.decode()
        assert CANARY_NAME in shown
    refused = client.post(f"{base}{second.pk}/reveal/")
    assert refused.status_code == 302
    page = client.get(refused["Location"]).content.decode()
    assert CANARY_NAME not in page and "too many records" in page
    assert _audits("accompaniment.identity_revealed") == 2
    assert _audits("accompaniment.identity_reveal_refused") == 1
    with pytest.raises(RevealQuota):
        record_reveal("reports.contact", actor=net.lucia, obj=net.vero)
