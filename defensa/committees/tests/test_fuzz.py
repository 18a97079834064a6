"""Bad input anywhere (property 19): never a 500, a clear error, nothing half-written."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.accounts.models import Skill, TOTPDevice, User
from defensa.audit.models import AuditEntry
from defensa.committees import actions
from defensa.committees.models import Invitation, Membership, Shift
from defensa.core.testing import sign_in

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any text a browser could send (lone surrogates cannot be encoded by any client).
text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
nasty = st.one_of(
    text,
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "0" * 5000,
            "<script>",
            "'; DROP TABLE x;--",
            "9" * 40,
            "-1",
            "2026-02-30",
            "24:00",
            "٩٠٠٣٣",
        ]
    ),
)


def _snapshot() -> tuple[int, ...]:
    return (
        User.objects.count(),
        TOTPDevice.objects.count(),
        Membership.objects.count(),
        Invitation.objects.count(),
        Skill.objects.count(),
        Shift.objects.count(),
        AuditEntry.objects.count(),
    )


def _run(fn):  # type: ignore[no-untyped-def]
    # Each example runs in a savepoint that is rolled back, so examples do not see each other.
    with transaction.atomic():
        fn()
        transaction.set_rollback(True)


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {}, optional={k: nasty for k in ("display_name", "email", "password", "language")}
    )
)
def test_join_form(net, data):  # type: ignore[no-untyped-def]
    def example() -> None:
        _, token = actions.create_invitation(net.boyle, actor=net.ana)
        before = _snapshot()
        client = Client()
        response = client.post(f"/join/{token}/", data)
        assert response.status_code in (200, 302)
        assert _snapshot() == before  # step 1 never writes
        if response.status_code == 200:
            assert b"error-summary" in response.content
            return
        code = client.post(f"/join/{token}/code/", {"code": data.get("password", "")})
        assert code.status_code in (200, 302)

    _run(example)


@FUZZ
@given(token=nasty, code=nasty)
def test_join_links_and_codes(net, token, code):  # type: ignore[no-untyped-def]
    def example() -> None:
        before = _snapshot()
        client = Client()
        quoted = quote(token, safe="")
        for url in (f"/join/{quoted}/", f"/join/{quoted}/code/"):
            try:
                response = client.post(url, {"code": code})
            except Exception as error:  # noqa: BLE001
                # A token with "/" or "?" makes another URL; the resolver's 404 is fine.
                raise AssertionError(f"{url!r} raised {error!r}") from error
            assert response.status_code in (302, 404, 410)
        assert _snapshot() == before

    _run(example)


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "display_name": nasty,
            "language": nasty,
            "notify_email": nasty,
            "notify_sms": nasty,
            "phone": nasty,
        },
    )
)
def test_profile_form(net, data):  # type: ignore[no-untyped-def]
    def example() -> None:
        client = sign_in(Client(), net.mo)
        before = User.objects.values().get(pk=net.mo.pk)
        response = client.post("/me/profile/", data)
        assert response.status_code in (302, 400)
        if response.status_code == 400:
            assert b"error-summary" in response.content
            assert User.objects.values().get(pk=net.mo.pk) == before
        else:
            saved = User.objects.get(pk=net.mo.pk)
            assert saved.display_name.strip() and saved.language in ("en", "es")
            assert saved.phone == "" or saved.phone.startswith("+")

    _run(example)


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {}, optional={k: nasty for k in ("committee", "weekday", "start", "end")}
    )
)
def test_shift_form(net, data):  # type: ignore[no-untyped-def]
    def example() -> None:
        client = sign_in(Client(), net.vero)
        before = _snapshot()
        response = client.post("/me/availability/shifts/", data)
        assert response.status_code in (302, 400)
        if response.status_code == 400:
            assert _snapshot() == before

    _run(example)


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                f"{k}_{f}"
                for k in ("verifier", "driver")
                for f in ("has", "trained_on", "expires_on")
            ]
        ),
        nasty,
    )
)
def test_skills_form(net, data):  # type: ignore[no-untyped-def]
    def example() -> None:
        client = sign_in(Client(), net.vero)
        before = list(Skill.objects.filter(user=net.vero).values())
        response = client.post("/me/skills/", data)
        assert response.status_code in (302, 400)
        if response.status_code == 400:
            assert list(Skill.objects.filter(user=net.vero).values()) == before

    _run(example)


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={"mode": nasty, "zip_code": nasty, "cell": nasty}))
def test_area_form(net, data):  # type: ignore[no-untyped-def]
    def example() -> None:
        client = sign_in(Client(), net.mo)
        response = client.post("/me/area/", data)
        assert response.status_code in (302, 400)
        mo = User.objects.get(pk=net.mo.pk)
        if response.status_code == 400:
            assert (mo.home_zip, mo.home_cell) == ("", "")
        else:
            assert not (mo.home_zip and mo.home_cell)

    _run(example)


@FUZZ
@given(note=nasty, body=nasty, pk=nasty)
def test_coordinator_forms(net, note, body, pk):  # type: ignore[no-untyped-def]
    def example() -> None:
        client = sign_in(Client(), net.ana)
        before = Invitation.objects.count()
        response = client.post("/committees/boyle-heights/invitations/", {"note": note})
        assert response.status_code in (302, 400)
        assert Invitation.objects.count() == before + (response.status_code == 302)
        response = client.post("/committees/boyle-heights/announce/", {"body": body})
        assert response.status_code in (302, 400)
        for url in ("reveal", "roles", "skills", "deactivate"):
            response = client.post(
                f"/committees/boyle-heights/members/{pk}/{url}/", {"skills": body}
            )
            assert response.status_code in (200, 302, 400, 404)
        response = client.post(f"/committees/boyle-heights/vouch/{pk}/")
        assert response.status_code in (302, 404)

    _run(example)
