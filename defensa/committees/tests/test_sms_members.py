"""Members without a smartphone: invited by a texted code, joining by texting it back from
the invited number, taking part by text alone, with no web sign-in (docs/accounts.md)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from defensa.accounts import mfa
from defensa.accounts.models import Skill, SkillKind, User
from defensa.audit.models import AuditEntry
from defensa.committees import actions, sms
from defensa.committees.models import Invitation, Membership, MemberStatus, RecoveryRequest
from defensa.core.tokens import SHORT_CODE_ALPHABET
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import OfferStatus
from defensa.dispatch.tests.helpers import report_incident
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.notify.tests.helpers import run_worker
from defensa.reports.models import Report
from defensa.reports.tests.test_sms import _webhook
from defensa.reports.tests.test_sms import text as signed_text

pytestmark = pytest.mark.django_db
__all__ = ["_webhook"]  # the webhook's settings, autouse

PHONE = "+13235550161"
OTHER = "+13235550162"
CODE = re.compile(r"JOIN ([A-Z2-9]{8})")


def text(client, body: str, *, number: str = PHONE):  # type: ignore[no-untyped-def]
    response = signed_text(client, body, number=number)
    assert response.status_code == 200
    return response


def invite(net, *, phone: str = PHONE, full: bool = False, language: str = "es") -> str:  # type: ignore[no-untyped-def]
    """Ana invites a number; the code, read from the text as the person would read it."""
    invitation = actions.invite_by_text(
        net.boyle, actor=net.ana, phone=phone, name="Doña Carmen", language=language, full=full
    )
    delivery = Delivery.objects.get(
        template=actions.SMS_INVITATION, context__invitation=invitation.pk
    )
    return CODE.search(messages.render(delivery).body).group(1)  # type: ignore[union-attr]


def last_reply() -> Delivery:
    return Delivery.objects.filter(template=actions.SMS_JOIN_REPLY).latest("id")


def outcome() -> str:
    return last_reply().context["outcome"]


def carmen() -> User | None:
    return User.objects.filter(display_name="Doña Carmen").first()


# Joining by code ----------------------------------------------------------------------


def test_the_invitation_text_says_how_to_join_in_the_persons_language(net):
    invitation = actions.invite_by_text(
        net.boyle, actor=net.ana, phone=PHONE, name="Doña Carmen", language="en"
    )
    [delivery] = Delivery.objects.filter(template=actions.SMS_INVITATION)
    body = messages.render(delivery).body
    code = actions.sms_code(invitation)
    assert f"reply JOIN {code} (or UNIRME {code})" in body
    assert "Boyle Heights" in body
    assert delivery.recipient is None and delivery.address_hint.endswith("61")
    # The number is kept only as a keyed digest, the code only as a hash.
    assert PHONE not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert code not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert AuditEntry.objects.filter(action="invitation.created").count() == 1


def test_the_right_code_from_the_invited_number_makes_an_sms_only_member(client, net):
    code = invite(net)

    text(client, f"UNIRME {code}")

    person = carmen()
    assert person is not None and person.sms_only and person.phone == PHONE
    assert person.email is None and not person.has_usable_password()
    assert person.notify_sms and not person.notify_email and person.language == "es"
    membership = Membership.objects.get(user=person, committee=net.boyle)
    assert membership.status == MemberStatus.PROBATION
    assert membership.invited_by == net.ana
    invitation = Invitation.objects.get(phone_digest__gt="")
    assert invitation.used_by == person and invitation.display_name == ""
    assert outcome() == "joined"
    assert "a prueba hasta que otros miembros den fe de ti" in messages.render(last_reply()).body
    entry = AuditEntry.objects.get(action="invitation.accepted")
    assert entry.data["by_text"] is True
    # A JOIN text is not a report.
    assert not Report.objects.exists()


def test_a_full_invitation_makes_a_full_member_and_join_works_in_any_case(client, net):
    code = invite(net, full=True, language="en")
    text(client, f"join {code[:4].lower()}-{code[4:]}")
    membership = Membership.objects.get(user=carmen(), committee=net.boyle)
    assert membership.status == MemberStatus.FULL and membership.full_since is not None
    body = messages.render(last_reply()).body
    assert "welcome! You are a member of Boyle Heights" in body


def test_a_wrong_code_changes_nothing_and_says_so(client, net):
    invite(net, language="en")
    text(client, "JOIN ABCDEFGH")
    text(client, "JOIN")
    text(client, "JOIN 12345678")
    assert carmen() is None
    assert Invitation.objects.get(phone_digest__gt="").used_at is None
    replies = Delivery.objects.filter(template=actions.SMS_JOIN_REPLY)
    assert [d.context["outcome"] for d in replies] == ["unknown"] * 3
    assert "we know no invitation with that code" in messages.render(replies[0]).body


def test_a_code_from_another_number_is_refused(client, net):
    code = invite(net)
    text(client, f"JOIN {code}", number=OTHER)
    assert carmen() is None
    assert outcome() == "unknown"
    # The invited number still can.
    text(client, f"JOIN {code}")
    assert carmen() is not None


def test_a_used_code_is_refused_and_changes_nothing(client, net):
    code = invite(net)
    text(client, f"JOIN {code}")
    text(client, f"JOIN {code}")
    assert User.objects.filter(sms_only=True).count() == 1
    assert Membership.objects.filter(user=carmen()).count() == 1
    assert outcome() == "used"


def test_an_expired_or_cancelled_code_is_refused(client, net):
    code = invite(net, language="en")
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    text(client, f"JOIN {code}")
    assert carmen() is None and outcome() == "expired"
    assert "this code has expired" in messages.render(last_reply()).body
    code = invite(net)  # a new invitation cancels nothing used; the old one is expired anyway
    first = Invitation.objects.filter(phone_digest__gt="").latest("id")
    actions.revoke_invitation(first, actor=net.ana)
    text(client, f"JOIN {code}")
    assert carmen() is None and outcome() == "expired"


def test_inviting_the_number_again_cancels_the_earlier_code(client, net):
    old = invite(net)
    new = invite(net)
    text(client, f"JOIN {old}")
    assert carmen() is None and outcome() == "expired"
    text(client, f"JOIN {new}")
    assert carmen() is not None


def test_a_texted_code_is_no_web_link(client, net):
    code = invite(net)
    assert client.get(f"/join/sms-join:{code}/").status_code == 404
    assert client.get(f"/join/{code}/").status_code == 404


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_the_join_parser_takes_only_a_keyword_and_a_code(body):
    code = sms.parse(body)
    assert code == "" or (len(code) == 8 and set(code) <= set(SHORT_CODE_ALPHABET))
    if code:
        assert body.strip().upper().split()[0].strip(".,!¡:;") in sms.JOIN_WORDS


@given(
    st.sampled_from(["JOIN", "join", "Unirme", "UNIRSE"]),
    st.text(alphabet=SHORT_CODE_ALPHABET, min_size=8, max_size=8),
    st.sampled_from([" ", "  ", " \n"]),
    st.sampled_from(["", "-", " "]),
)
@settings(max_examples=100, deadline=None)
def test_the_join_parser_reads_codes_as_people_type_them(word, code, gap, split):
    typed = code[:4] + split + code[4:]
    assert sms.parse(f"{word}{gap}{typed.lower()}") == code
    assert sms.parse(f"{word}{gap}{typed}") == code


# No web sign-in ------------------------------------------------------------------------


def test_an_sms_only_member_cannot_sign_in_on_the_web(client, net):
    code = invite(net)
    text(client, f"JOIN {code}")
    person = carmen()
    assert not person.signs_in_on_the_web()
    response = client.post("/accounts/login/", {"email": "(323) 555-0161", "password": "x" * 12})
    assert response.status_code == 200
    assert "Members who take part by text message have no web sign-in" in response.content.decode()
    assert "_auth_user_id" not in client.session
    request = RequestFactory().get("/")
    request.session = client.session
    with pytest.raises(PermissionDenied):
        mfa.complete_login(request, person, "totp")
    # Nor can two coordinators hand them a web sign-in through account recovery.
    actions.request_recovery(PHONE)
    assert not RecoveryRequest.objects.exists()


def test_roles_needing_a_web_sign_in_are_refused_with_a_clear_message(client_as, net):
    code = invite(net, full=True)
    text(client_as(net.ana), f"JOIN {code}")  # the same client, signed in as Ana after
    membership = Membership.objects.get(user=carmen(), committee=net.boyle)
    for role in ("is_dispatcher", "is_legal", "is_coordinator", "is_intake"):
        fields = dict.fromkeys(("is_dispatcher", "is_legal", "is_coordinator", "is_intake"), False)
        fields[role] = True
        with pytest.raises(actions.ActionError, match="no_web_sign_in"):
            actions.change_roles(membership, actor=net.ana, **fields)
    client = client_as(net.ana)
    response = client.post(
        f"/committees/boyle-heights/members/{membership.pk}/roles/",
        {"is_dispatcher": "on"},
        follow=True,
    )
    assert "This person has no web sign-in with a second factor" in response.content.decode()
    membership.refresh_from_db()
    assert not membership.is_dispatcher and not membership.roles()


# The member record ----------------------------------------------------------------------


def test_the_members_page_shows_sms_only_and_who_cannot_be_reached(client_as, net):
    code = invite(net)
    client = client_as(net.ana)
    text(client, f"JOIN {code}")
    membership = Membership.objects.get(user=carmen())
    page = client.get("/committees/boyle-heights/members/").content.decode()
    row = page.split(f'id="member-{membership.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "SMS only" in row and "•••-•••-••61" in row and PHONE not in page
    assert "replied STOP" not in row
    text(client, "STOP")
    page = client.get("/committees/boyle-heights/members/").content.decode()
    row = page.split(f'id="member-{membership.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Can&#x27;t be reached: replied STOP" in row or "Can't be reached: replied STOP" in row


def test_a_coordinator_invites_from_the_members_page_and_bad_input_is_refused(client_as, net):
    client = client_as(net.ana)
    url = "/committees/boyle-heights/members/invite-by-text/"
    response = client.post(url, {"display_name": "Carmen", "phone": "555", "language": "es"})
    assert response.status_code == 400
    assert "Write a phone number like" in response.content.decode()
    response = client.post(url, {"display_name": "  ", "phone": PHONE, "language": "xx"})
    assert response.status_code == 400
    assert not Invitation.objects.exists() and not Delivery.objects.exists()
    response = client.post(
        url, {"display_name": "Carmen", "phone": "(323) 555-0161", "language": "es"}
    )
    assert response.status_code == 302
    assert Invitation.objects.get().phone_digest == actions.phone_digest(PHONE)
    # Only coordinators.
    assert client_as(net.mo).post(url, {"phone": PHONE}).status_code == 404


def test_an_sms_only_verifier_is_offered_and_answers_by_text(client, net, twilio_peer):
    code = invite(net, full=True)
    text(client, f"UNIRME {code}")
    person = carmen()
    net.vero.on_duty = False
    net.vero.save()
    Skill.objects.create(user=person, kind=SkillKind.VERIFIER)
    person.home_zip, person.on_duty = "90033", True
    person.save()
    incident = report_incident()
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    assert offer.responder == person
    run_worker()
    assert [m for m in twilio_peer.messages if m.to == PHONE]
    twilio_peer.messages.clear()

    text(client, "SI")

    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    run_worker()
    [reply] = twilio_peer.messages
    assert reply.to == PHONE and incident.reference in reply.body


def test_removing_an_sms_only_member_kills_their_offers(client, net):
    code = invite(net, full=True)
    text(client, f"JOIN {code}")
    membership = Membership.objects.get(user=carmen(), committee=net.boyle)
    actions.deactivate_member(membership, actor=net.ana)
    person = carmen()
    assert not person.is_active
    text(client, "SI")  # nothing open: no error


# Converting: a web sign-in later, on the same account ------------------------------------


def test_an_sms_only_member_gets_a_link_to_add_a_web_sign_in_to_their_account(
    client, client_as, net
):  # type: ignore[no-untyped-def]
    from django.test import Client

    from defensa.committees.tests.helpers import finish_join, start_join

    code = invite(net, full=True)
    text(client, f"JOIN {code}")
    person = carmen()
    Skill.objects.create(user=person, kind=SkillKind.VERIFIER)
    membership = Membership.objects.get(user=person)
    coordinator = client_as(net.ana)
    response = coordinator.post(f"/committees/boyle-heights/members/{membership.pk}/web-link/")
    assert response.status_code == 302 and response.url.endswith("/invitations/")
    page = coordinator.get(response.url).content.decode()
    link = re.search(r"/join/([A-Za-z0-9_-]{43})/", page).group(1)  # type: ignore[union-attr]
    invitation = actions.find_invitation(link)
    assert invitation.for_user == person

    # Someone else signed in cannot take the link for their account.
    assert not Membership.objects.filter(user=net.omar, committee=net.boyle).exists()
    other = client_as(net.omar)
    other.post(f"/join/{link}/", {"join_as_me": "yes"})
    assert not Membership.objects.filter(user=net.omar, committee=net.boyle).exists()
    assert Invitation.objects.get(pk=invitation.pk).used_at is None

    fresh = Client()
    assert start_join(fresh, link, email="carmen@example.org").status_code == 302
    assert finish_join(fresh, link).status_code == 302
    person.refresh_from_db()
    assert not person.sms_only and person.email == "carmen@example.org"
    assert person.signs_in_on_the_web()
    assert User.objects.filter(phone=PHONE).count() == 1  # the same account, not a second one
    membership.refresh_from_db()
    assert membership.status == MemberStatus.FULL
    assert person.skills.filter(kind=SkillKind.VERIFIER).exists()
    entry = AuditEntry.objects.filter(action="invitation.accepted").latest("id")
    assert entry.data["converted"] is True
    # Now a role needing a web sign-in can be given.
    assert actions.change_roles(
        membership, actor=net.ana, is_dispatcher=True, is_legal=False, is_coordinator=False
    )
    # And the link is used up.
    assert Client().get(f"/join/{link}/").status_code == 410


def test_a_web_link_is_only_for_sms_only_members(client_as, net):
    membership = Membership.objects.get(user=net.mo, committee=net.boyle)
    client = client_as(net.ana)
    response = client.post(
        f"/committees/boyle-heights/members/{membership.pk}/web-link/", follow=True
    )
    assert "This person already has a web sign-in." in response.content.decode()
    assert not Invitation.objects.exists()
    assert (
        client_as(net.mo)
        .post(f"/committees/boyle-heights/members/{membership.pk}/web-link/")
        .status_code
        == 404
    )
