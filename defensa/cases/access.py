"""Who may see cases and emergency plans (need to know, security properties 4 and 5).

Decision: a case is read and changed ONLY by full members with the legal-team role
(`Membership.is_legal`) of the case's committee. Coordinators are not in it by default: they
can make someone legal (an audited role change), which is the deliberate way in. Everyone
else learns at most that a case exists (`case_exists_for_incident`). Like every helper here,
these return the object or raise Http404, the same for a missing row and another's row.

Emergency plans: the owner reads and edits their own. Dispatchers of the plan's committee
may trigger it (they see the member's name and that a plan exists, never its contents). The
owner, the committee's dispatchers and its legal team may cancel a fresh trigger.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from defensa.cases.models import Case, EmergencyPlan, LegalHold, PlanTrigger, Task
from defensa.committees.access import AnyUser, committees_for
from defensa.committees.models import Committee
from defensa.core.access import active_user, one_from_url, pk_from_url


def cases_for(user: AnyUser | None) -> QuerySet[Case]:
    """Cases of the committees in which the user is on the legal team."""
    return Case.objects.filter(committee__in=committees_for(user, "legal"))


def get_case_for(user: AnyUser | None, pk: Any) -> Case:
    found = (
        cases_for(user)
        .select_related("committee", "facility", "attorney")
        .filter(pk=pk_from_url(pk))
    )
    case = found.first()
    if case is None:
        raise Http404
    return case


def get_task_for(user: AnyUser | None, case: Case, pk: Any) -> Task:
    task = Task.objects.filter(case=case, case__in=cases_for(user), pk=pk_from_url(pk)).first()
    if task is None:
        raise Http404
    return task


def case_exists_for_incident(incident: Any) -> bool:
    """What anyone who may see the incident may know: that a case is open, nothing more."""
    return Case.objects.filter(incident=incident).exists()


# Legal holds --------------------------------------------------------------------------


def holds_for(user: AnyUser | None) -> QuerySet[LegalHold]:
    """Holds placed by the legal teams the user is on."""
    return LegalHold.objects.filter(committee__in=committees_for(user, "legal"))


def get_hold_for(user: AnyUser | None, pk: Any) -> LegalHold:
    return one_from_url(holds_for(user), pk)


def holdable_incident(user: AnyUser | None, reference: str) -> Any:
    """An incident of a committee whose legal team the user is on, or None."""
    from defensa.incidents.models import Incident

    reference = (reference or "").strip().upper()
    if not reference.isalnum() or len(reference) > 8:
        return None
    return (
        Incident.objects.filter(committee__in=committees_for(user, "legal"), reference=reference)
        .select_related("committee")
        .first()
    )


def holdable_case(user: AnyUser | None, reference: str) -> Case | None:
    reference = (reference or "").strip().upper()
    if not reference.isalnum() or len(reference) > 10:
        return None
    return cases_for(user).select_related("committee").filter(reference=reference).first()


# Emergency plans ----------------------------------------------------------------------


def own_plans_for(user: AnyUser | None) -> QuerySet[EmergencyPlan]:
    """The user's own emergency plan (one at most); none for anyone not signed in."""
    person = active_user(user)
    if person is None:
        return EmergencyPlan.objects.none()
    return EmergencyPlan.objects.filter(owner=person)


def get_own_plan_for(user: AnyUser | None) -> EmergencyPlan:
    plan = own_plans_for(user).first()
    if plan is None:
        raise Http404
    return plan


def triggerable_plans_for(user: AnyUser | None, committee: Committee) -> QuerySet[EmergencyPlan]:
    """Plans a dispatcher of the committee may trigger (their own committee's members)."""
    if not committees_for(user, "dispatcher").filter(pk=committee.pk).exists():
        return EmergencyPlan.objects.none()
    return EmergencyPlan.objects.filter(committee=committee, owner__is_active=True)


def get_triggerable_plan_for(user: AnyUser | None, committee: Committee, pk: Any) -> EmergencyPlan:
    return one_from_url(triggerable_plans_for(user, committee).select_related("owner"), pk)


def triggers_for(user: AnyUser | None) -> QuerySet[PlanTrigger]:
    """Triggers the user may see and cancel: of their own plan, or of a committee in which
    they dispatch or are on the legal team."""
    person = active_user(user)
    if person is None:
        return PlanTrigger.objects.none()
    committees = committees_for(person, ("dispatcher", "legal"))
    return PlanTrigger.objects.filter(
        Q(plan__owner=person) | Q(plan__committee__in=committees.values("pk"))
    ).distinct()


def get_trigger_for(user: AnyUser | None, pk: Any) -> PlanTrigger:
    trigger = (
        triggers_for(user).select_related("plan__owner", "case").filter(pk=pk_from_url(pk)).first()
    )
    if trigger is None:
        raise Http404
    return trigger
