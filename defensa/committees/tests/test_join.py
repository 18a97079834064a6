"""Joining by invitation: sign-up, TOTP enrolment, probation membership (property 6)."""

from __future__ import annotations

import datetime as dt
import threading

import pyotp
import pytest
from django.db import OperationalError, connection, connections
from django.test import Client
from django.utils import timezone

from defensa.accounts.middleware import SESSION_FACTOR
from defensa.accounts.models import TOTPDevice, User
from defensa.committees import actions
from defensa.committees.models import Invitation, Membership, MemberStatus
from defensa.committees.tests.helpers import (
    GOOD_PASSWORD,
    actions_named,
    finish_join,
    invite,
    pending_secret,
    secret_on_page,
    start_join,
)

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return User.objects.count(), TOTPDevice.objects.count(), Membership.objects.count()


def test_full_join_creates_account_device_and_probation_membership(net, client):
    invitation, token = invite(net.boyle, net.ana, note="Rosa")
    page = client.get(f"/join/{token}/")
    assert page.status_code == 200 and b"Boyle Heights" in page.content
    response = start_join(client, token)
    assert response.status_code == 302 and response["Location"] == f"/join/{token}/code/"
    # Nothing is written before the code is confirmed.
    assert not User.objects.filter(email="rosa@example.org").exists()
    step2 = client.get(f"/join/{token}/code/")
    html = step2.content.decode()
    secret = secret_on_page(html)
    assert secret == pending_secret(client)
    assert "<svg" in html  # the QR code, inline
    response = client.post(f"/join/{token}/code/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert response["Location"] == "/committees/boyle-heights/"
    rosa = User.objects.get(email="rosa@example.org")
    assert rosa.display_name == "Rosa" and rosa.language == "es"
    assert rosa.check_password(GOOD_PASSWORD)
    assert rosa.totp.secret == secret and rosa.totp.confirmed_at is not None
    membership = Membership.objects.get(user=rosa)
    assert membership.committee == net.boyle
    assert membership.status == MemberStatus.PROBATION
    assert membership.invited_by == net.ana
    invitation.refresh_from_db()
    assert invitation.used_at is not None and invitation.used_by == rosa
    assert invitation.note == ""  # not kept once used
    # Signed in with the code as factor, the page in the chosen language.
    assert client.session[SESSION_FACTOR] == "totp"
    assert int(client.session["_auth_user_id"]) == rosa.pk
    assert response.cookies["django_language"].value == "es"
    committee_page = client.get("/committees/boyle-heights/")
    assert committee_page.status_code == 200
    assert b"periodo de prueba" in committee_page.content
    assert "committees_join" not in client.session
    entries = actions_named("invitation.accepted")
    assert len(entries) == 1 and entries[0].actor_id == rosa.pk


def test_plain_password_is_never_kept_between_steps(net, client):
    _, token = invite(net.boyle, net.ana)
    start_join(client, token)
    assert GOOD_PASSWORD not in str(client.session["committees_join"])


def test_wrong_code_writes_nothing_and_says_why(net, client):
    invitation, token = invite(net.boyle, net.ana)
    start_join(client, token)
    before = _counts()
    response = client.post(f"/join/{token}/code/", {"code": "000000"})
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert _counts() == before
    invitation.refresh_from_db()
    assert invitation.used_at is None
    # The right code still works afterwards.
    assert finish_join(client, token).status_code == 302


def test_code_in_the_wrong_format_is_a_field_error(net, client):
    _, token = invite(net.boyle, net.ana)
    start_join(client, token)
    response = client.post(f"/join/{token}/code/", {"code": "12ab"})
    assert b"Type the 6 digits" in response.content or b"6 d" in response.content
    assert b"errorlist" in response.content


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "password123", b"too common"),
        ("password", "short", b"too short"),
        ("email", "not-an-email", b"valid email"),
        ("display_name", "   ", b"required"),
        ("language", "fr", b"valid choice"),
    ],
)
def test_bad_sign_up_fields_are_errors_next_to_the_field(net, client, field, value, message):
    _, token = invite(net.boyle, net.ana)
    client.cookies["django_language"] = "en"
    response = start_join(client, token, **{field: value})
    assert response.status_code == 200
    assert message in response.content.lower()
    assert b"error-summary" in response.content
    assert "committees_join" not in client.session


def test_existing_email_is_refused(net, client):
    _, token = invite(net.boyle, net.ana)
    response = start_join(client, token, email="MO@example.org")
    assert response.status_code == 200 and b"errorlist" in response.content
    assert User.objects.filter(email="mo@example.org").count() == 1


def test_tampered_link_is_404_with_a_clear_message(net, client):
    _, token = invite(net.boyle, net.ana)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for url in (f"/join/{tampered}/", f"/join/{tampered}/code/", "/join/x/"):
        response = client.get(url)
        assert response.status_code == 404
        assert b"can't find this invitation" in response.content
    assert start_join(client, tampered).status_code == 404
    assert User.objects.count() == 8


def test_expired_link_is_410(net, client):
    invitation, token = invite(net.boyle, net.ana)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(f"/join/{token}/")
    assert response.status_code == 410 and b"expired" in response.content
    assert start_join(client, token).status_code == 410
    assert User.objects.count() == 8


def test_link_expiring_between_steps_writes_nothing(net, client):
    invitation, token = invite(net.boyle, net.ana)
    start_join(client, token)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    before = _counts()
    response = finish_join(client, token)
    assert response.status_code == 410
    assert _counts() == before


def test_used_link_is_410_and_cannot_make_a_second_account(net, client):
    _, token = invite(net.boyle, net.ana)
    start_join(client, token)
    finish_join(client, token)
    other = Client()
    response = other.get(f"/join/{token}/")
    assert response.status_code == 410 and b"already used" in response.content
    assert start_join(other, token, email="beto@example.org").status_code == 410
    assert not User.objects.filter(email="beto@example.org").exists()


def test_two_people_on_one_link_between_steps_only_one_wins(net):
    _, token = invite(net.boyle, net.ana)
    first, second = Client(), Client()
    start_join(first, token, email="one@example.org")
    start_join(second, token, email="two@example.org")
    assert finish_join(first, token).status_code == 302
    response = finish_join(second, token)
    assert response.status_code == 410
    assert User.objects.filter(email__in=["one@example.org", "two@example.org"]).count() == 1
    assert (
        Membership.objects.filter(committee=net.boyle, status=MemberStatus.PROBATION).count() == 2
    )


def test_step_two_without_step_one_goes_back(net, client):
    _, token = invite(net.boyle, net.ana)
    response = client.get(f"/join/{token}/code/")
    assert response.status_code == 302 and response["Location"] == f"/join/{token}/"


def test_signed_in_person_is_asked_and_nothing_changes_on_get(net, client_as):
    invitation, token = invite(net.boyle, net.ana)
    response = client_as(net.omar).get(f"/join/{token}/")
    assert response.status_code == 200 and b"Join with my account" in response.content
    assert client_as(net.omar).get(f"/join/{token}/code/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_existing_account_joins_another_committee_on_probation(net, client_as):
    invitation, token = invite(net.east, net.omar)
    client = client_as(net.mo)
    response = client.post(f"/join/{token}/", {"join_as_me": "yes"})
    assert response.status_code == 302 and response["Location"] == "/committees/east-la/"
    membership = Membership.objects.get(user=net.mo, committee=net.east)
    assert membership.status == MemberStatus.PROBATION and membership.invited_by == net.omar
    invitation.refresh_from_db()
    assert invitation.used_by == net.mo
    assert actions_named("invitation.accepted")[-1].data["existing_account"] is True
    # Full in Boyle Heights, on probation in East LA: each committee decides for itself.
    assert Membership.objects.get(user=net.mo, committee=net.boyle).status == MemberStatus.FULL
    assert client.post(f"/join/{token}/", {"join_as_me": "yes"}).status_code == 410


def test_existing_member_does_not_use_up_the_link(net, client_as):
    invitation, token = invite(net.boyle, net.ana)
    response = client_as(net.mo).post(f"/join/{token}/", {"join_as_me": "yes"}, follow=True)
    assert b"already a member" in response.content
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_committee_needing_no_vouches_makes_full_members(net, client):
    net.boyle.vouches_required = 0
    net.boyle.save()
    _, token = invite(net.boyle, net.ana)
    start_join(client, token)
    finish_join(client, token)
    assert Membership.objects.get(user__email="rosa@example.org").status == MemberStatus.FULL


def _signup(email: str, secret: str) -> actions.SignUp:
    return actions.SignUp(
        display_name=email.split("@")[0],
        email=email,
        password_hash="md5$x$y",
        language="en",
        totp_secret=secret,
        totp_code=pyotp.TOTP(secret).now(),
    )


@pytest.mark.django_db(transaction=True)
def test_racing_threads_on_one_link_only_one_wins():
    from defensa.core.testing import build_network

    net = build_network()
    invitation, _ = invite(net.boyle, net.ana)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(n: int) -> None:
        secret = pyotp.random_base32()
        try:
            barrier.wait()
            inv = Invitation.objects.get(pk=invitation.pk)
            actions.accept_invitation(inv, _signup(f"racer{n}@example.org", secret))
            results.append("won")
        except actions.InvitationUnusable:
            results.append("lost")
        except OperationalError as error:
            # The test database on SQLite is shared-cache in-memory, where a second writer
            # gets "table is locked" at once instead of waiting: it lost, and rolled back.
            results.append("locked" if "locked" in str(error) else f"error: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    losers = {"lost", "locked"} if connection.vendor == "sqlite" else {"lost"}
    assert len(results) == 2 and results.count("won") == 1, results
    assert (set(results) - {"won"}) <= losers, results
    assert User.objects.filter(email__startswith="racer").count() == 1
    assert len(actions_named("invitation.accepted")) == 1
