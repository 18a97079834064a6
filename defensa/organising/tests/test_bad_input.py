"""Bad input gets a clear, translated answer, never a 500, and stores nothing partial."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.core import testing
from defensa.organising.models import Assessment, Participation, StructureTest, Worker, Workplace
from defensa.organising.tests.helpers import (
    contact,
    make_organiser,
    structure_test,
    text,
    workplace,
)
from defensa.organising.views import link_gate
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db

FUZZ = hsettings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
junk = st.text(max_size=120)


@pytest.fixture
def setup(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa", phone="+13235550142")
    client = testing.sign_in(Client(), olga)
    return olga, place, rosa, client


@FUZZ
@given(employer=junk, headcount=junk, departments=junk, shifts=junk)
def test_any_workplace_form(setup, employer, headcount, departments, shifts):  # type: ignore[no-untyped-def]
    olga, _place, _rosa, client = setup
    before = Workplace.objects.count()
    response = client.post(
        "/organising/c/boyle-heights/workplaces/new/",
        {
            "employer": employer,
            "headcount": headcount,
            "departments": departments,
            "shifts": shifts,
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Workplace.objects.count() == before


@FUZZ
@given(name=junk, phone=junk, language=junk, department=junk, shift=junk)
def test_any_contact_form(setup, name, phone, language, department, shift):  # type: ignore[no-untyped-def]
    _olga, place, _rosa, client = setup
    before = Worker.objects.count()
    response = client.post(
        f"/organising/workplaces/{place.pk}/workers/add/",
        {
            "name": name,
            "phone": phone,
            "language": language,
            "department": department,
            "shift": shift,
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Worker.objects.count() == before


@FUZZ
@given(value=junk, reason=junk)
def test_any_assessment(setup, value, reason):  # type: ignore[no-untyped-def]
    _olga, place, rosa, client = setup
    before = Assessment.objects.count()
    response = client.post(
        f"/organising/workplaces/{place.pk}/workers/{rosa.pk}/assess/",
        {"value": value, "reason": reason},
    )
    assert response.status_code == 302
    after = Assessment.objects.count()
    assert after in (before, before + 1)
    if after == before + 1:
        assert Assessment.objects.first().value in (1, 2, 3, 4, 5)


@FUZZ
@given(title=junk, goal=junk, day=junk, time=junk, kind=junk)
def test_any_structure_test_form(setup, title, goal, day, time, kind):  # type: ignore[no-untyped-def]
    _olga, place, _rosa, client = setup
    response = client.post(
        "/organising/c/boyle-heights/tests/new/",
        {
            "title": title,
            "kind": kind,
            "workplaces": [str(place.pk)],
            "goal_percent": goal,
            "deadline_date": day,
            "deadline_time": time,
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert not StructureTest.objects.exists()


@FUZZ
@given(rest=st.text(max_size=80))
def test_any_text_after_the_keyword(setup, net, rest):  # type: ignore[no-untyped-def]
    olga, place, _rosa, _client = setup
    structure_test(net.boyle, olga, [place])
    response = text(Client(), f"ACTION {rest}", number="+13235550142")
    assert response.status_code == 200
    assert Report.objects.count() == 0
    assert Participation.objects.count() <= 1


@FUZZ
# Any character a URL path can carry: not the path's own delimiters, and no lone surrogate
# (it cannot be encoded at all, so no request can hold one).
@given(
    token=st.text(
        alphabet=st.characters(exclude_characters="/?#%", exclude_categories=["Cs"]),
        min_size=1,
        max_size=300,
    )
)
def test_any_link(setup, token):  # type: ignore[no-untyped-def]
    link_gate.reset()
    response = Client().post(f"/organising/t/{token}/")
    assert response.status_code in (404, 400)
    assert not Participation.objects.exists()


def test_a_workplace_form_with_errors_says_so_in_spanish(setup):  # type: ignore[no-untyped-def]
    _olga, _place, _rosa, client = setup
    response = client.post(
        "/organising/c/boyle-heights/workplaces/new/",
        {"employer": "X", "headcount": "0"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    page = response.content.decode()
    assert "La plantilla estimada debe estar entre 1 y 100.000." in page


def test_a_duplicate_phone_on_the_form_is_a_clear_message(setup):  # type: ignore[no-untyped-def]
    _olga, place, _rosa, client = setup
    response = client.post(
        f"/organising/workplaces/{place.pk}/workers/add/",
        {"name": "Rosa 2", "phone": "323-555-0142", "language": "en"},
    )
    assert "A worker with this phone number is already recorded here." in response.content.decode()
    assert Worker.objects.count() == 1


def test_too_many_departments(setup):  # type: ignore[no-untyped-def]
    _olga, _place, _rosa, client = setup
    response = client.post(
        "/organising/c/boyle-heights/workplaces/new/",
        {"employer": "X", "headcount": "5", "departments": "\n".join(f"D{i}" for i in range(41))},
    )
    assert "Name at most 40, one a line." in response.content.decode()
