"""The legal team in a real browser, on a phone: a member's plan is triggered through the
hotline, a case opens, the 48-hour consultation runs out and escalates; the legal persona
sees it on the case list and the case page, reveals the identifiers, and finishes the task.

The clock: the escalation command is run with `--now` two days ahead (the same command
`scripts/serve` loops); nothing of ours is patched.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from defensa.cases.models import Task
from defensa.cases.tests.helpers import canary_plan
from defensa.core.testing import sign_in
from defensa.core.tests.canary import CANARY_A_NUMBER
from defensa.notify.models import Delivery

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def context_as(browser, live_server):  # type: ignore[no-untyped-def]
    """A phone-sized browser signed in as a persona, closed when the test ends: an open
    context keeps its connections to the live server, whose threads would then outlive the
    test and fail on the database after it."""
    opened = []

    def _as(user):  # type: ignore[no-untyped-def]
        client = sign_in(Client(), user)
        context = browser.new_context(base_url=live_server.url, viewport=PHONE)
        opened.append(context)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        return context

    yield _as
    for context in opened:
        context.close()


def test_overdue_consultation_escalates_to_the_legal_team(transactional_db, net, context_as):  # type: ignore[no-untyped-def]
    canary_plan(net)
    # 1. A trusted contact calls the hotline; the dispatcher finds Mo and triggers the plan.
    dani = context_as(net.dani).new_page()
    dani.goto("/plans/boyle-heights/")
    dani.fill("input[name=q]", "Mo")
    dani.click("main form[role=search] button")
    dani.click("text=Trigger plan")
    dani.check("input[name=via][value=hotline]")
    dani.check("input[name=confirm]")
    dani.click("main button.danger")
    assert "Plan triggered" in dani.inner_text(".messages")
    assert Delivery.objects.filter(template="plan_triggered", language="es").exists()

    # 2. Lucia sees the new case; its consultation is not overdue yet.
    lucia = context_as(net.lucia).new_page()
    lucia.goto("/cases/")
    assert lucia.locator(".overdue").count() == 0
    lucia.click("a.case-row")
    assert "Attorney consultation within 48 hours" in lucia.inner_text("#tasks")
    assert "Escalated" not in lucia.inner_text("#tasks")

    # 3. Two days pass without the consultation: the escalation pass tells the legal team once.
    task = Task.objects.get(kind="consultation")
    later = (task.due_at + dt.timedelta(minutes=5)).isoformat()
    out = StringIO()
    call_command("escalate_case_tasks", now=later, stdout=out)
    call_command("escalate_case_tasks", now=later, stdout=StringIO())
    assert "escalated 1" in out.getvalue()
    assert list(
        Delivery.objects.filter(template="case_task_overdue").values_list("recipient", flat=True)
    ) == [net.lucia.pk]

    # 4. Lucia's list puts the case first under "Overdue tasks"; the page says it escalated.
    lucia.goto("/cases/")
    assert lucia.locator("h2").first.inner_text().startswith("Overdue tasks")
    assert lucia.locator(".overdue").count() == 1
    assert lucia.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    lucia.click(".overdue a.case-row")
    assert "Escalated to the legal team" in lucia.inner_text("#tasks")
    assert "Overdue task escalated to the legal team" in lucia.inner_text("#note")

    # 5. She shows the identifiers (recorded), then marks the consultation done.
    assert CANARY_A_NUMBER not in lucia.content()
    lucia.click("text=Show identifiers and contacts")
    assert CANARY_A_NUMBER in lucia.inner_text("#person")
    lucia.goto(f"/cases/{task.case_id}/")
    assert CANARY_A_NUMBER not in lucia.content()
    lucia.click("#tasks button:has-text('Mark done')")
    assert "Consultation done" in lucia.inner_text("main")
    task.refresh_from_db()
    assert task.done_at is not None
