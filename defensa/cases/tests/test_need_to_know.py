"""Need to know (security property 4) for cases and emergency plans.

The canaries (an A-number and a family phone, defensa/core/tests/canary.py) are put into a
case, a member's plan and the case its trigger opens. Every relevant page is rendered as
every persona; a canary may appear only where the role may read it: the legal team's
response to an explicit reveal, and the member's own plan page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from defensa.cases import plans
from defensa.cases.tests.helpers import canary_case, canary_plan
from defensa.committees.models import Membership
from defensa.core import testing
from defensa.core.tests.canary import CANARY_NEEDLES
from defensa.reports.actions import receive_report

PERSONAS = ("ana", "dani", "vero", "lucia", "mo", "pat", "omar", "admin")


def _leaks(text: str) -> list[str]:
    return [n for n in CANARY_NEEDLES if n in text]


@pytest.fixture
def world(net):
    report = receive_report(
        {"category": "home_arrest", "zip_code": "90033", "description": "arrest"},
        channel="web",
        idempotency_key="need-to-know-report",
    ).report
    case = canary_case(net, incident=report.incident)
    plan = canary_plan(net)
    trigger = plans.trigger_plan(plan, via="hotline", actor=net.dani)
    mo = Membership.objects.get(user=net.mo, committee=net.boyle)
    return {"net": net, "incident": report.incident, "cases": [case, trigger.case], "mo": mo}


def _pages(world) -> list[tuple[str, str]]:
    incident, mo = world["incident"], world["mo"]
    pages = [
        ("GET", reverse("cases:list")),
        ("GET", reverse("cases:new")),
        ("GET", reverse("dispatch:console", args=["boyle-heights"]) + f"?incident={incident.pk}"),
        ("GET", reverse("committees:detail", args=["boyle-heights"])),
        ("GET", reverse("committees:members", args=["boyle-heights"])),
        ("GET", reverse("committees:member", args=["boyle-heights", mo.pk])),
        ("GET", reverse("plans:mine")),
        ("GET", reverse("plans:search", args=["boyle-heights"]) + "?q=mo"),
        ("GET", reverse("plans:trigger", args=["boyle-heights", mo.user.emergency_plan.pk])),
        ("GET", reverse("notify:deliveries")),
        ("GET", reverse("accounts:home")),
        ("GET", reverse("me:index")),
    ]
    for case in world["cases"]:
        pages += [
            ("GET", reverse("cases:case", args=[case.pk])),
            ("POST", reverse("cases:reveal", args=[case.pk])),
        ]
    return pages


def _may_read(who: str, method: str, path: str) -> bool:
    if who == "lucia" and method == "POST" and path.endswith("/reveal/"):
        return True
    return who == "mo" and path == reverse("plans:mine")


def test_canaries_appear_only_where_the_role_may_read_them(client, world):
    net = world["net"]
    checked = 0
    seen_where_allowed = set()
    for who in PERSONAS:
        testing.sign_in(client, getattr(net, who))
        for method, path in _pages(world):
            response = client.post(path) if method == "POST" else client.get(path)
            text = response.content.decode()
            leaks = _leaks(text)
            if _may_read(who, method, path):
                assert response.status_code == 200, (who, path)
                assert leaks, f"{who} should read the canaries on {method} {path}"
                seen_where_allowed.add((who, path))
            else:
                assert not leaks, f"{who} sees {leaks} on {method} {path}"
            checked += 1
        client.logout()
    assert checked == len(PERSONAS) * len(_pages(world))
    # Both reveals and the plan page were really rendered with the canaries in them.
    assert len(seen_where_allowed) == 3


def test_a_dispatcher_sees_that_a_case_exists_not_which(client_as, world):
    net = world["net"]
    text = (
        client_as(net.dani)
        .get(
            reverse("dispatch:console", args=["boyle-heights"])
            + f"?incident={world['incident'].pk}"
        )
        .content.decode()
    )
    assert "A case is open; the legal team has it." in text
    for case in world["cases"]:
        assert case.reference not in text
