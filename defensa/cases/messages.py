"""Context for case and plan messages, built at send time from the ids a Delivery stores.

Legal-team messages carry the case reference and a link, never the person's identity: an
alert on a lock screen must not name anyone. A plan's contacts get the member's name (they
know them) and the member's own instructions, unsealed only now, when the message is sent.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from defensa.notify import messages as notify_messages


def _link(case: Any) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("cases:case", kwargs={"pk": case.pk})


def _case_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.cases.models import Case

    case = Case.objects.select_related("committee").get(pk=stored["case"])
    return {"case": case, "committee": case.committee.name, "link": _link(case)}


def _task_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.cases.models import Task

    task = Task.objects.select_related("case__committee").get(pk=stored["task"])
    return {
        "task": task,
        "task_label": task.label,
        "case": task.case,
        "committee": task.case.committee.name,
        "link": _link(task.case),
    }


def _trigger_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.cases.models import PlanTrigger
    from defensa.cases.plans import plan_instructions
    from defensa.core import crypto

    trigger = PlanTrigger.objects.select_related("plan__owner").get(pk=stored["trigger"])
    try:
        instructions = plan_instructions(trigger.plan)
    except crypto.KeyShredded:
        instructions = ""
    return {"member": trigger.plan.owner.display_name, "instructions": instructions}


def register() -> None:
    notify_messages.register_context("case_opened", _case_context)
    notify_messages.register_context("case_false_alarm", _case_context)
    notify_messages.register_context("case_task_overdue", _task_context)
    notify_messages.register_context("plan_triggered", _trigger_context)
    notify_messages.register_context("plan_cancelled", _trigger_context)
    notify_messages.register_context("case_text", _case_context)
    notify_messages.register_context("plan_text_reply", _case_context)
    # Need to know: that a case was opened, or a member's plan triggered, is the legal team's.
    notify_messages.register_compartment(
        notify_messages.LEGAL,
        "case_opened",
        "case_false_alarm",
        "case_task_overdue",
        "plan_triggered",
        "plan_cancelled",
        "case_text",
        "plan_text_reply",
    )
