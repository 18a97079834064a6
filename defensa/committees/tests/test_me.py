"""A member's own settings: language, channels, skills, area, on duty, shifts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from defensa.accounts.models import Skill, User
from defensa.committees.forms import normalize_phone
from defensa.committees.models import Membership, Shift
from defensa.core import geo

from .helpers import actions_named

pytestmark = pytest.mark.django_db


def _profile(**extra: object) -> dict[str, object]:
    return {"display_name": "Mo", "language": "en", "notify_email": "on", **extra}


@pytest.mark.parametrize(
    "url", ["/me/", "/me/profile/", "/me/skills/", "/me/area/", "/me/availability/"]
)
def test_me_pages_need_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


@pytest.mark.parametrize(
    "url", ["/me/", "/me/profile/", "/me/skills/", "/me/area/", "/me/availability/"]
)
def test_me_pages_render(net, client_as, url):
    assert client_as(net.pat).get(url).status_code == 200


def test_language_choice_sets_the_ui_language(net, client_as):
    client = client_as(net.mo)
    response = client.post("/me/profile/", _profile(language="es"))
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "es"
    net.mo.refresh_from_db()
    assert net.mo.language == "es"
    page = client.get("/me/profile/")
    assert b'lang="es"' in page.content


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("(213) 555-0123", "+12135550123"),
        ("213.555.0123", "+12135550123"),
        ("1 213 555 0123", "+12135550123"),
        ("+1 213 555 0123", "+12135550123"),
        ("+52 55 1234 5678", "+525512345678"),
        ("0052 55 1234 5678", "+525512345678"),
    ],
)
def test_phone_numbers_are_normalised(raw, stored):
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["555-0123", "(013) 555-0123", "213 155 0123", "+1 213", "call me", "+0123456789", "2" * 20],
)
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_sms_needs_a_phone_and_bad_input_changes_nothing(net, client_as):
    client = client_as(net.dani)
    before = User.objects.values().get(pk=net.dani.pk)
    response = client.post("/me/profile/", _profile(notify_sms="on", phone=""))
    assert response.status_code == 400 and b"add your mobile phone" in response.content
    response = client.post("/me/profile/", _profile(notify_sms="on", phone="not a phone"))
    assert response.status_code == 400 and b"errorlist" in response.content
    assert User.objects.values().get(pk=net.dani.pk) == before


def test_channels_and_phone_saved(net, client_as):
    client_as(net.mo).post(
        "/me/profile/", _profile(notify_sms="on", phone="(323) 555-0142", notify_email="")
    )
    net.mo.refresh_from_db()
    assert net.mo.phone == "+13235550142" and net.mo.notify_sms and not net.mo.notify_email
    entry = actions_named("profile.changed")[-1]
    assert "555" not in str(entry.data)


def test_skills_with_training_dates(net, client_as):
    client = client_as(net.mo)
    response = client.post(
        "/me/skills/",
        {
            "interpreter_has": "on",
            "interpreter_trained_on": "2026-01-10",
            "interpreter_expires_on": "2027-01-10",
            "driver_has": "on",
        },
    )
    assert response.status_code == 302
    skills = {s.kind: s for s in Skill.objects.filter(user=net.mo)}
    assert set(skills) == {"interpreter", "driver"}
    assert skills["interpreter"].trained_on == dt.date(2026, 1, 10)
    assert skills["interpreter"].expires_on == dt.date(2027, 1, 10)
    # Untick driver: it goes.
    client.post("/me/skills/", {"interpreter_has": "on", "interpreter_trained_on": "2026-01-10"})
    skills = {s.kind: s for s in Skill.objects.filter(user=net.mo)}
    assert set(skills) == {"interpreter"} and skills["interpreter"].expires_on is None


def test_a_trusted_skill_already_held_keeps_its_dates_and_can_be_given_up(net, client_as):
    client = client_as(net.vero)
    client.post("/me/skills/", {"verifier_has": "on", "verifier_trained_on": "2026-01-10"})
    assert Skill.objects.get(user=net.vero, kind="verifier").trained_on == dt.date(2026, 1, 10)
    client.post("/me/skills/", {})
    assert not Skill.objects.filter(user=net.vero).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "verifier_has": "on",
                "verifier_trained_on": "2026-05-01",
                "verifier_expires_on": "2026-04-01",
            },
            b"after the training",
        ),
        ({"verifier_has": "on", "verifier_trained_on": "2999-01-01"}, b"in the future"),
        ({"verifier_has": "on", "verifier_trained_on": "1900-01-01"}, b"too long ago"),
        ({"verifier_trained_on": "2026-01-01"}, b"Tick this box"),
        ({"verifier_has": "on", "verifier_trained_on": "yesterday"}, b"valid date"),
    ],
)
def test_bad_skill_dates_are_errors_and_change_nothing(net, client_as, data, message):
    client = client_as(net.vero)
    before = list(Skill.objects.filter(user=net.vero).values())
    response = client.post("/me/skills/", data)
    assert response.status_code == 400
    assert message in response.content
    assert list(Skill.objects.filter(user=net.vero).values()) == before


def test_area_by_zip(net, client_as):
    client = client_as(net.mo)
    response = client.post("/me/area/", {"mode": "zip", "zip_code": "90033"})
    assert response.status_code == 302
    net.mo.refresh_from_db()
    assert net.mo.home_zip == "90033" and net.mo.home_cell == ""
    assert actions_named("profile.area_changed")[-1].data == {"kind": "zip"}


@pytest.mark.parametrize(
    ("zip_code", "message"),
    [
        ("9003", b"5 digits"),
        ("00000", b"know this ZIP"),
        ("90033-1234", b"5 digits"),
        ("", b"Write your ZIP"),
    ],
)
def test_bad_zip_is_an_error(net, client_as, zip_code, message):
    response = client_as(net.mo).post("/me/area/", {"mode": "zip", "zip_code": zip_code})
    assert response.status_code == 400 and message in response.content
    net.mo.refresh_from_db()
    assert net.mo.home_zip == ""


def test_area_by_cell_from_the_committee_list(net, client_as):
    client = client_as(net.mo)
    page = client.get("/me/area/").content.decode()
    centre = geo.zip_centroid("90033")
    assert centre is not None
    own_cell = geo.cell_for(*centre)
    assert own_cell in page and "Around ZIP 90033, 90063" in page
    response = client.post("/me/area/", {"mode": "cell", "cell": own_cell})
    assert response.status_code == 302
    net.mo.refresh_from_db()
    assert net.mo.home_cell == own_cell and net.mo.home_zip == ""


def test_area_cell_must_come_from_the_list(net, client_as):
    far = geo.cell_for(40.7128, -74.0060)  # New York: not near any of Mo's committees
    response = client_as(net.mo).post("/me/area/", {"mode": "cell", "cell": far})
    assert response.status_code == 400
    net.mo.refresh_from_db()
    assert net.mo.home_cell == ""


def test_area_can_be_cleared(net, client_as):
    client_as(net.vero).post("/me/area/", {"mode": "none"})
    net.vero.refresh_from_db()
    assert net.vero.home_zip == "" and net.vero.home_cell == ""


def test_on_duty_switch(net, client_as):
    client = client_as(net.vero)
    client.post("/me/availability/duty/", {"on": "1"})
    net.vero.refresh_from_db()
    assert net.vero.on_duty and net.vero.on_duty_since is not None
    assert abs((timezone.now() - net.vero.on_duty_since).total_seconds()) < 60
    client.post("/me/availability/duty/", {"on": "0"})
    net.vero.refresh_from_db()
    assert not net.vero.on_duty and net.vero.on_duty_since is None
    assert [e.data["on"] for e in actions_named("profile.on_duty")] == [True, False]


def test_add_and_remove_shifts(net, client_as):
    client = client_as(net.vero)
    response = client.post(
        "/me/availability/shifts/",
        {"committee": "boyle-heights", "weekday": "5", "start": "22:00", "end": "06:00"},
    )
    assert response.status_code == 302
    shift = Shift.objects.get()
    assert shift.membership.user == net.vero and shift.weekday == 5
    page = client.get("/me/availability/").content.decode()
    assert "22:00" in page and "06:00" in page and "next day" in page
    # Someone else's shift id is 404.
    assert client_as(net.mo).post(f"/me/availability/shifts/{shift.pk}/remove/").status_code == 404
    client = client_as(net.vero)
    assert client.post(f"/me/availability/shifts/{shift.pk}/remove/").status_code == 302
    assert not Shift.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"committee": "east-la", "weekday": "1", "start": "08:00", "end": "10:00"},
            b"valid choice",
        ),
        (
            {"committee": "boyle-heights", "weekday": "9", "start": "08:00", "end": "10:00"},
            b"valid choice",
        ),
        (
            {"committee": "boyle-heights", "weekday": "1", "start": "25:00", "end": "10:00"},
            b"valid time",
        ),
        (
            {"committee": "boyle-heights", "weekday": "1", "start": "08:00", "end": "08:00"},
            b"same time",
        ),
    ],
)
def test_bad_shifts_are_errors_and_change_nothing(net, client_as, data, message):
    response = client_as(net.vero).post("/me/availability/shifts/", data)
    assert response.status_code == 400 and message in response.content
    assert not Shift.objects.exists()


def test_shift_cap(net, client_as):
    membership = Membership.objects.get(user=net.vero)
    for n in range(28):
        Shift.objects.create(
            membership=membership, weekday=n % 7, start=dt.time(n % 24), end=dt.time((n + 1) % 24)
        )
    response = client_as(net.vero).post(
        "/me/availability/shifts/",
        {"committee": "boyle-heights", "weekday": "1", "start": "08:00", "end": "10:00"},
    )
    assert response.status_code == 400 and b"Remove one first" in response.content
    assert Shift.objects.count() == 28


def test_area_list_includes_the_committees_own_cells(net, client_as):
    far = geo.cell_for(34.1, -118.3)  # Hollywood-ish: not next to Boyle Heights' ZIP
    net.boyle.h3_cells = [far]
    net.boyle.save()
    client = client_as(net.mo)
    assert far in client.get("/me/area/").content.decode()
    assert client.post("/me/area/", {"mode": "cell", "cell": far}).status_code == 302
