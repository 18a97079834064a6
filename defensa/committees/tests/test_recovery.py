"""Account recovery: a public request that reveals nothing, two approvers, a single-use link,
and recovery codes."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pyotp
import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.accounts import actions as account_actions
from defensa.accounts.models import Passkey, RecoveryCode, TOTPDevice
from defensa.audit.models import AuditEntry
from defensa.committees import actions
from defensa.committees.models import RecoveryRequest, RecoveryStatus
from defensa.core import testing
from defensa.core.tokens import hash_token
from defensa.notify.models import Delivery

NEW_PASSWORD = "lantern-orchard-river-88"  # noqa: S105 (test value)


def _ask(client: Client, who: str):  # type: ignore[no-untyped-def]
    return client.post("/recover/", {"who": who})


def test_the_answer_is_the_same_for_known_unknown_and_switched_off(net: testing.Network) -> None:
    net.omar.is_active = False
    net.omar.save(update_fields=["is_active"])
    bodies = []
    for who in ("mo@example.org", "nobody@example.org", "omar@example.org", "(213) 555-0199"):
        response = _ask(Client(), who)
        assert response.status_code == 200
        bodies.append(
            re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        )
    assert len(set(bodies)) == 1
    # Mo asked twice (by email and by phone): one request; nobody else got one.
    assert list(RecoveryRequest.objects.values_list("user__email", flat=True)) == ["mo@example.org"]


def test_bad_input_gets_a_translated_error_and_changes_nothing(net: testing.Network) -> None:
    response = Client().post("/recover/", {"who": "not an address"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Escribe" in response.content.decode()
    assert not RecoveryRequest.objects.exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(who=st.text(max_size=300))
def test_no_input_makes_a_500(net: testing.Network, who: str) -> None:
    response = Client().post("/recover/", {"who": who})
    assert response.status_code in (200, 400)


def test_coordinators_are_told_in_their_language(net: testing.Network) -> None:
    actions.request_recovery("mo@example.org")
    told = Delivery.objects.filter(template="recovery_requested")
    assert {d.recipient_id for d in told} == {net.ana.pk}  # Boyle Heights' coordinator only


def _approve(user, request, verb="approve"):  # type: ignore[no-untyped-def]
    client = testing.sign_in(Client(), user)
    return client.post(f"/committees/boyle-heights/recovery/{request.pk}/{verb}/", follow=True)


def test_two_coordinators_approve_then_the_link_works_once(net: testing.Network) -> None:
    second = testing.make_user("bea")
    testing.join(second, net.boyle, is_coordinator=True)
    old_session = testing.sign_in(Client(), net.mo)
    Passkey.objects.create(user=net.mo, credential_id=b"x", public_key=b"y")
    actions.request_recovery("mo@example.org")
    request = RecoveryRequest.objects.get()

    response = _approve(net.ana, request)
    assert "One more person must approve" in response.content.decode()
    # The same coordinator cannot approve twice; the person's old credentials still work.
    response = _approve(net.ana, request)
    assert "another person must approve" in response.content.decode()
    assert TOTPDevice.objects.filter(user=net.mo).exists()

    response = _approve(second, request)
    body = response.content.decode()
    link = re.search(r"http://testserver(/recover/[^<\s]+/)", body)
    assert link, "the link is shown to the second approver"
    request.refresh_from_db()
    assert request.status == RecoveryStatus.APPROVED and request.first_approver_id == net.ana.pk
    # The lost factors are gone and every session ended.
    assert not TOTPDevice.objects.filter(user=net.mo).exists()
    assert not Passkey.objects.filter(user=net.mo).exists()
    assert old_session.get("/me/").status_code == 302
    net.mo.refresh_from_db()
    assert not net.mo.has_usable_password()
    # Shown once.
    again = testing.sign_in(Client(), second).get("/committees/boyle-heights/recovery/")
    assert link.group(1) not in again.content.decode()

    person = Client()
    page = person.get(link.group(1))
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.content.decode()).group(1)
    bad = person.post(link.group(1), {"password": NEW_PASSWORD, "code": "000000"})
    assert bad.status_code == 400
    assert RecoveryRequest.objects.get().status == RecoveryStatus.APPROVED  # nothing used
    done = person.post(link.group(1), {"password": NEW_PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.content.decode())
    assert len(codes) == 10
    net.mo.refresh_from_db()
    assert net.mo.check_password(NEW_PASSWORD)
    assert RecoveryCode.objects.filter(user=net.mo, used_at__isnull=True).count() == 10
    assert Client().get(link.group(1)).status_code == 404  # single use
    audit = AuditEntry.objects.values_list("action", flat=True)
    names = [
        *audit.filter(action__startswith="recovery"),
        *audit.filter(action__startswith="account_recover"),
    ]
    assert sorted(names) == sorted(
        [
            "recovery.requested",
            "recovery.first_approval",
            "account_recovery_approved",
            "account_recovered",
        ]
    )


def test_the_person_and_other_committees_cannot_approve(net: testing.Network) -> None:
    actions.request_recovery("ana@example.org")
    request = RecoveryRequest.objects.get()
    # Ana is the only Boyle Heights coordinator; she cannot approve her own.
    with pytest.raises(actions.ActionError):
        actions.decide_recovery(request, actor=net.ana, approve=True)
    with pytest.raises(actions.ActionError):
        actions.decide_recovery(request, actor=net.omar, approve=True)
    client = testing.sign_in(Client(), net.omar)
    assert client.post(f"/committees/east-la/recovery/{request.pk}/approve/").status_code == 404


def test_admins_recover_through_two_other_admins(net: testing.Network) -> None:
    admin2 = testing.make_user("root2", is_network_admin=True)
    admin3 = testing.make_user("root3", is_network_admin=True)
    actions.request_recovery("admin@example.org")
    request = RecoveryRequest.objects.get()
    # A coordinator cannot approve an administrator's recovery, nor see it.
    with pytest.raises(actions.ActionError):
        actions.decide_recovery(request, actor=net.ana, approve=True)
    assert request.pk not in [
        r.pk for r in RecoveryRequest.objects.filter(user__is_network_admin=False)
    ]
    own = testing.sign_in(Client(), net.admin)
    assert own.post(f"/recover/admins/{request.pk}/approve/").status_code == 404
    first = testing.sign_in(Client(), admin2).post(f"/recover/admins/{request.pk}/approve/")
    assert first.status_code == 302
    second = testing.sign_in(Client(), admin3).post(
        f"/recover/admins/{request.pk}/approve/", follow=True
    )
    assert "/recover/" in second.content.decode()
    request.refresh_from_db()
    assert request.status == RecoveryStatus.APPROVED


def test_a_recovery_code_signs_in_once(net: testing.Network) -> None:
    codes = account_actions.make_recovery_codes(net.mo, actor=net.mo)
    for attempt, expected in ((codes[0], True), (codes[0], False), (codes[1].upper(), True)):
        client = Client()
        client.post("/accounts/login/", {"email": "mo@example.org", "password": testing.PASSWORD})
        response = client.post("/accounts/login/second-step/", {"recovery_code": attempt})
        if expected:
            assert response.status_code == 302 and response["Location"] == "/accounts/security/"
        else:
            assert response.status_code == 200
            assert "did not work" in response.content.decode()
    assert RecoveryCode.objects.filter(user=net.mo, used_at__isnull=True).count() == 8


def test_recovery_codes_are_made_on_the_security_page_after_the_password(
    net: testing.Network,
) -> None:
    client = testing.sign_in(Client(), net.mo)
    response = client.post("/accounts/security/recovery-codes/")
    assert response.status_code == 200
    assert len(re.findall(r"<li>[a-z2-9]{5}-[a-z2-9]{5}</li>", response.content.decode())) == 10
    assert "no-store" in response["Cache-Control"]
    stored = list(RecoveryCode.objects.filter(user=net.mo).values_list("code_hash", flat=True))
    assert len(stored) == 10 and all(len(h) == 64 for h in stored)


def test_a_lapsed_request_disappears_and_can_be_asked_again(
    net: testing.Network,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    import datetime as dt

    actions.request_recovery("mo@example.org")
    old = RecoveryRequest.objects.get()
    RecoveryRequest.objects.filter(pk=old.pk).update(
        created_at=old.created_at - dt.timedelta(days=settings.RECOVERY_REQUEST_DAYS, seconds=1)
    )
    page = testing.sign_in(Client(), net.ana).get("/committees/boyle-heights/recovery/")
    assert f"recovery-{old.pk}" not in page.content.decode()
    with pytest.raises(actions.ActionError):
        actions.decide_recovery(old, actor=net.ana, approve=True)
    actions.request_recovery("mo@example.org")
    assert RecoveryRequest.objects.filter(status=RecoveryStatus.PENDING).count() == 1
    assert RecoveryRequest.objects.get(pk=old.pk).status == RecoveryStatus.REFUSED


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(st.sampled_from(["password", "code"]), st.text(max_size=300)),
    token=st.text(min_size=1, max_size=250).filter(lambda t: "/" not in t and "\x00" not in t),
)
def test_no_input_to_the_link_makes_a_500_or_uses_it(
    net: testing.Network, data: dict[str, str], token: str
) -> None:
    RecoveryRequest.objects.all().delete()
    request = RecoveryRequest.objects.create(
        user=net.mo,
        status=RecoveryStatus.APPROVED,
        token_hash=hash_token("good-token"),
        link_expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    client = Client()
    assert client.post("/recover/good-token/", data).status_code in (200, 400)
    assert client.post(f"/recover/{quote(token)}/", data).status_code in (200, 400, 404)
    request.refresh_from_db()
    assert request.status == RecoveryStatus.APPROVED and request.used_at is None


def test_an_approval_stops_counting_when_the_approver_loses_the_right(
    net: testing.Network,
) -> None:
    bea = testing.make_user("bea")
    testing.join(bea, net.boyle, is_coordinator=True)
    cleo = testing.make_user("cleo")
    testing.join(cleo, net.boyle, is_coordinator=True)
    actions.request_recovery("mo@example.org")
    request = RecoveryRequest.objects.get()
    assert actions.decide_recovery(request, actor=bea, approve=True) is None
    bea.memberships.update(is_coordinator=False)  # type: ignore[attr-defined]
    # Cleo's approval is now the first, not the second: no link yet.
    assert actions.decide_recovery(request, actor=cleo, approve=True) is None
    request.refresh_from_db()
    assert request.first_approver_id == cleo.pk and request.status == RecoveryStatus.PENDING
    assert actions.decide_recovery(request, actor=net.ana, approve=True)


def test_a_switched_off_account_cannot_be_recovered(net: testing.Network) -> None:
    actions.request_recovery("mo@example.org")
    request = RecoveryRequest.objects.get()
    net.mo.is_active = False
    net.mo.save(update_fields=["is_active"])
    with pytest.raises(actions.ActionError):
        actions.decide_recovery(request, actor=net.ana, approve=True)
