"""Writes of phone and text trees: build, rebalance, move; start a cascade, reach, confirm,
escalate, end.

Every write is atomic and records exactly one audit entry (ids and counts, never a number or
a message). Messages go through the delivery engine, rendered at send time from ids in each
person's language; a cascade's texts to many people are queued in batches (`queue_messages`,
one insert per batch), never one insert per person.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.audit.reveals import record_reveal
from defensa.committees.models import Committee, MemberStatus
from defensa.core.tokens import derived_token, hash_token, is_plausible
from defensa.notify.actions import queue_messages
from defensa.notify.models import Priority
from defensa.trees.balance import Someone, balance
from defensa.trees.models import MESSAGE_MAX, Branch, Cascade, Duty, Leaf, Reach, Tree, Via

CAPTAIN_TEMPLATE = "tree_captain"
PERSON_TEMPLATE = "tree_person"
HANDOVER_TEMPLATE = "tree_handover"
BATCH = 1000


class TreeError(Exception):
    """A tree or cascade step that cannot be taken; `message` is for the person (translated)."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


# Who is in a tree -----------------------------------------------------------------------


def members_of(committee: Committee) -> QuerySet[User]:
    """Everyone a committee's tree reaches: its active members, on probation too."""
    return User.objects.filter(is_active=True, memberships__committee=committee).distinct()


def captain_choices(committee: Committee) -> QuerySet[User]:
    """Who may be a captain: full members (a captain sees their group's names and numbers)."""
    return User.objects.filter(
        is_active=True,
        memberships__committee=committee,
        memberships__status=MemberStatus.FULL,
    ).distinct()


def _someone(user: User) -> Someone:
    return Someone(user.pk, user.language or "", user.area_cell or "")


def _place(tree: Tree, captains: Sequence[User], people: Iterable[User]) -> dict[int, int]:
    """Rewrite the tree's branches for these captains (in this order) and place everyone."""
    if not captains:
        raise TreeError(
            _("A tree needs at least one captain. Choose the captains among the full members."),
            "no_captains",
        )
    captain_ids = [c.pk for c in captains]
    tree.branches.exclude(captain_id__in=captain_ids).delete()  # type: ignore[attr-defined]
    branches = {}
    for position, captain in enumerate(captains):
        branch, _created = Branch.objects.update_or_create(
            tree=tree, captain=captain, defaults={"position": position}
        )
        branches[captain.pk] = branch
    rest = [p for p in people if p.pk not in branches]
    groups = balance([_someone(p) for p in rest], [_someone(c) for c in captains])
    existing = dict(tree.leaves.values_list("person_id", "pk"))  # type: ignore[attr-defined]
    # Captains are not leaves: they are reached as captains.
    Leaf.objects.filter(tree=tree).exclude(person_id__in=[p.pk for p in rest]).delete()
    new, moved = [], []
    for captain_id, person_ids in groups.items():
        for person_id in person_ids:
            if person_id in existing:
                moved.append(Leaf(pk=existing[person_id], branch=branches[captain_id]))
            else:
                new.append(Leaf(tree=tree, person_id=person_id, branch=branches[captain_id]))
    Leaf.objects.bulk_create(new, batch_size=BATCH)
    Leaf.objects.bulk_update(moved, ["branch"], batch_size=BATCH)
    return {cid: len(ids) for cid, ids in groups.items()}


def _check_captains(committee: Committee, captains: Sequence[User]) -> list[User]:
    allowed = set(captain_choices(committee).values_list("pk", flat=True))
    if any(c.pk not in allowed for c in captains):
        raise TreeError(_("Captains must be full members of the committee."), "captain")
    return list(dict.fromkeys(captains))


@transaction.atomic
def create_tree(committee: Committee, *, name: str, captains: Sequence[User], actor: User) -> Tree:
    """A tree of the committee's members, captains as chosen, groups balanced automatically."""
    name = name.strip()
    if not name:
        raise TreeError(_("Give the tree a name."), "name")
    captains = _check_captains(committee, captains)
    tree = Tree.objects.create(committee=committee, name=name[:80], created_by=actor)
    sizes = _place(tree, captains, members_of(committee))
    record(
        "trees.create_tree",
        actor=actor,
        obj=tree,
        committee=committee,
        captains=len(sizes),
        people=sum(sizes.values()),
    )
    return tree


@transaction.atomic
def set_captains(tree: Tree, *, captains: Sequence[User], actor: User) -> Tree:
    """Change the captains and balance every group again (hand moves are redone too)."""
    captains = _check_captains(tree.committee, captains)
    _locked_tree(tree)
    sizes = _place(tree, captains, members_of(tree.committee))
    record(
        "trees.set_captains",
        actor=actor,
        obj=tree,
        committee=tree.committee,
        captains=len(sizes),
        people=sum(sizes.values()),
    )
    return tree


@transaction.atomic
def move_person(leaf: Leaf, branch: Branch, *, actor: User) -> Leaf:
    """Put one person into another captain's group, by hand."""
    if branch.tree_id != leaf.tree_id:
        raise TreeError(_("Choose a captain of this tree."), "branch")
    leaf.branch = branch
    leaf.save(update_fields=["branch"])
    record(
        "trees.move_person",
        actor=actor,
        obj=leaf,
        committee=leaf.tree.committee,
        tree=leaf.tree_id,
        branch=branch.pk,
    )
    return leaf


def _locked_tree(tree: Tree) -> Tree:
    return Tree.objects.select_for_update().get(pk=tree.pk)


# Links ----------------------------------------------------------------------------------


def reach_token(reach: Reach) -> str:
    """The one-tap link's secret, derived from the row (defensa/core/tokens.py): the worker
    recomputes it when it renders the text; the database holds only its hash."""
    return _token(reach.cascade_id, reach.person_id, reach.nonce)


def _token(cascade_id: int, person_id: int, nonce: str) -> str:
    return derived_token("defensa.trees.reach", f"{cascade_id}:{person_id}:{nonce}")


def find_reach(token: str) -> Reach | None:
    if not is_plausible(token):
        return None
    return (
        Reach.objects.select_related("cascade", "cascade__tree", "cascade__tree__committee")
        .filter(token_hash=hash_token(token))
        .first()
    )


# Cascades -------------------------------------------------------------------------------


def _new_reach(cascade: Cascade, person_id: int, duty: Duty | None, *, captain: bool) -> Reach:
    nonce = secrets.token_hex(8)
    return Reach(
        cascade=cascade,
        person_id=person_id,
        duty=duty,
        is_captain=captain,
        handed_to_coordinators=duty is None and not captain,
        nonce=nonce,
        token_hash=hash_token(_token(cascade.pk, person_id, nonce)),
    )


def _queue(
    cascade: Cascade, template: str, people: Sequence[User], reaches: dict[int, int], tag: str
) -> int:
    """Queue `template` to these people in batches, each with their own reach id."""
    queued = 0
    for start in range(0, len(people), BATCH):
        batch = people[start : start + BATCH]
        queued += queue_messages(
            batch,
            template,
            {"cascade": cascade.pk},
            priority=Priority.URGENT,
            idempotency_prefix=f"trees:{cascade.pk}:{tag}",
            contexts={u.pk: {"cascade": cascade.pk, "reach": reaches[u.pk]} for u in batch},
        )
    return queued


@transaction.atomic
def start_cascade(
    tree: Tree, *, message: str, is_drill: bool, text_all: bool, actor: User
) -> Cascade:
    """Send the message to every captain; with `text_all` the engine also texts every person
    at once on their captains' behalf (captains then follow up on who has not confirmed)."""
    tree = _locked_tree(tree)
    message = " ".join(message.split())
    if not message:
        raise TreeError(_("Write the message the tree should pass on."), "message")
    if len(message) > MESSAGE_MAX:
        raise TreeError(
            _("The message is too long: at most %(n)d characters.") % {"n": MESSAGE_MAX},
            "message",
        )
    # Only people still in the committee: someone who left is not texted by its tree.
    captains_now = captain_choices(tree.committee).values("pk")
    branches = list(
        tree.branches.select_related("captain").filter(captain__in=captains_now)  # type: ignore[attr-defined]
    )
    if not branches:
        raise TreeError(
            _("This tree has no captains: choose at least one before starting a cascade."),
            "no_captains",
        )
    if tree.cascades.filter(ended_at__isnull=True).exists():  # type: ignore[attr-defined]
        raise TreeError(_("A cascade of this tree is still running: end it first."), "running")
    now = timezone.now()
    cascade = Cascade.objects.create(
        tree=tree,
        is_drill=is_drill,
        message=message,
        escalate_minutes=settings.TREES_ESCALATE_MINUTES,
        started_by=actor,
        started_at=now,
    )
    duties = Duty.objects.bulk_create(
        [
            Duty(cascade=cascade, captain=b.captain, position=b.position, created_at=now)
            for b in branches
        ]
    )
    duty_of_branch = {b.pk: d for b, d in zip(branches, duties, strict=True)}
    captain_ids = {b.captain_id for b in branches}
    rows = [_new_reach(cascade, b.captain_id, None, captain=True) for b in branches]
    leaves = (
        tree.leaves.filter(person__in=members_of(tree.committee).values("pk"))  # type: ignore[attr-defined]
        .exclude(person_id__in=captain_ids)
        .values_list("person_id", "branch_id")
    )
    rows += [
        _new_reach(cascade, pid, duty_of_branch.get(bid), captain=False) for pid, bid in leaves
    ]
    for row in rows:
        row.created_at = now
        if text_all and not row.is_captain:
            row.texted_at = now
    Reach.objects.bulk_create(rows, batch_size=BATCH)
    ids = dict(Reach.objects.filter(cascade=cascade).values_list("person_id", "pk"))
    captains = [b.captain for b in branches]
    sent = _queue(cascade, CAPTAIN_TEMPLATE, captains, ids, "captain")
    if text_all:
        people = list(
            User.objects.filter(pk__in=[r.person_id for r in rows if not r.is_captain]).order_by(
                "pk"
            )
        )
        sent += _queue(cascade, PERSON_TEMPLATE, people, ids, "person")
        Duty.objects.filter(cascade=cascade).update(texted_at=now)
    record(
        "trees.start_cascade",
        actor=actor,
        obj=cascade,
        committee=tree.committee,
        tree=tree.pk,
        drill=is_drill,
        captains=len(branches),
        people=len(rows) - len(branches),
        text_all=text_all,
        deliveries=sent,
    )
    return cascade


def _open(cascade: Cascade) -> None:
    if cascade.ended_at is not None:
        raise TreeError(_("This cascade has ended."), "ended")


@transaction.atomic
def text_group(duty: Duty, *, actor: User) -> int:
    """The engine texts the captain's people who have not confirmed, on the captain's behalf."""
    cascade = duty.cascade
    _open(cascade)
    reaches = list(Reach.objects.filter(duty=duty, confirmed_at__isnull=True))
    people = list(User.objects.filter(pk__in=[r.person_id for r in reaches]).order_by("pk"))
    now = timezone.now()
    sent = _queue(cascade, PERSON_TEMPLATE, people, {r.person_id: r.pk for r in reaches}, "person")
    Reach.objects.filter(pk__in=[r.pk for r in reaches], texted_at__isnull=True).update(
        texted_at=now
    )
    duty.texted_at = duty.texted_at or now
    duty.save(update_fields=["texted_at"])
    record(
        "trees.text_group",
        actor=actor,
        obj=duty,
        committee=cascade.tree.committee,
        cascade=cascade.pk,
        people=len(people),
        deliveries=sent,
    )
    return sent


@transaction.atomic
def log_call(reach: Reach, *, reached: bool, actor: User) -> Reach:
    """A captain called this person: reached (they count as confirmed) or not (yet)."""
    reach = Reach.objects.select_for_update().select_related("cascade__tree").get(pk=reach.pk)
    _open(reach.cascade)
    now = timezone.now()
    reach.called_at = now
    fields = ["called_at"]
    if reached and reach.confirmed_at is None:
        reach.confirmed_at, reach.via = now, Via.CALL
        fields += ["confirmed_at", "via"]
    reach.save(update_fields=fields)
    record(
        "trees.log_call",
        actor=actor,
        obj=reach,
        committee=reach.cascade.tree.committee,
        cascade=reach.cascade_id,
        reached=reached,
    )
    return reach


@transaction.atomic
def report_group(duty: Duty, *, actor: User) -> Duty:
    """The captain says their group is reached (so they are not escalated)."""
    duty = Duty.objects.select_for_update().select_related("cascade__tree").get(pk=duty.pk)
    _open(duty.cascade)
    if duty.escalated_at is not None:
        raise TreeError(
            _("Your group was handed on after the waiting time; it is someone else's now."),
            "escalated",
        )
    duty.reported_at = duty.reported_at or timezone.now()
    duty.save(update_fields=["reported_at"])
    Reach.objects.filter(
        cascade=duty.cascade, person=duty.captain, confirmed_at__isnull=True
    ).update(confirmed_at=duty.reported_at, via=Via.LINK)
    record(
        "trees.report_group",
        actor=actor,
        obj=duty,
        committee=duty.cascade.tree.committee,
        cascade=duty.cascade_id,
    )
    return duty


@transaction.atomic
def confirm_reach(reach: Reach, *, via: str, at: dt.datetime | None = None) -> bool:
    """The person confirms (a text reply or the link). False if already confirmed or ended."""
    reach = Reach.objects.select_for_update().select_related("cascade__tree").get(pk=reach.pk)
    if reach.cascade.ended_at is not None or reach.confirmed_at is not None:
        return False
    reach.confirmed_at, reach.via = at or timezone.now(), via
    reach.save(update_fields=["confirmed_at", "via"])
    # No actor: the person is named by the reach row alone, as on the live page.
    record(
        "trees.confirm_reach",
        obj=reach,
        committee=reach.cascade.tree.committee,
        cascade=reach.cascade_id,
        via=via,
    )
    return True


def open_reaches_of(number: str) -> QuerySet[Reach]:
    """Unconfirmed reaches of open cascades for the people with this number."""
    return Reach.objects.filter(
        person__phone=number,
        person__is_active=True,
        confirmed_at__isnull=True,
        cascade__ended_at__isnull=True,
    ).select_related("cascade")


def reveal_number(reach: Reach, *, actor: User) -> str:
    """The person's phone number, for a captain (or a coordinator) to call them: shown for
    this one response, audited and counted against the hourly quota (RevealQuota past it)."""
    record_reveal(
        "member.phone",
        actor=actor,
        obj=reach,
        committee=reach.cascade.tree.committee_id,
        user=reach.person_id,
    )
    return reach.person.phone


# Escalation -----------------------------------------------------------------------------


def overdue_duties(now: dt.datetime) -> list[Duty]:
    """Captains of open cascades who have not confirmed their group within the waiting time
    while some of their people are still unconfirmed (one query per running cascade)."""
    found: list[Duty] = []
    for cascade in Cascade.objects.filter(ended_at__isnull=True):
        if cascade.started_at + dt.timedelta(minutes=cascade.escalate_minutes) > now:
            continue
        waiting = Reach.objects.filter(duty=OuterRef("pk"), confirmed_at__isnull=True)
        found += Duty.objects.filter(
            Exists(waiting),
            cascade=cascade,
            reported_at__isnull=True,
            escalated_at__isnull=True,
        ).order_by("position", "pk")
    return found


def _next_duty(duty: Duty) -> Duty | None:
    """The next captain in the tree's order (wrapping round) who has confirmed their group."""
    others = list(
        Duty.objects.filter(
            cascade=duty.cascade, reported_at__isnull=False, escalated_at__isnull=True
        )
        .exclude(pk=duty.pk)
        .select_related("captain")
        .filter(captain__is_active=True)
        .order_by("position", "pk")
    )
    after = [d for d in others if (d.position, d.pk) > (duty.position, duty.pk)]
    return (after or others or [None])[0]


def coordinators_of(committee: Committee) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        memberships__committee=committee,
        memberships__is_coordinator=True,
        memberships__status=MemberStatus.FULL,
    ).distinct()


@transaction.atomic
def escalate_duty(duty: Duty, *, now: dt.datetime | None = None) -> Duty | None:
    """Hand an overdue captain's unconfirmed people to the next captain, else to the
    coordinators, and tell whoever takes them. Returns the duty that took them (None: the
    coordinators)."""
    now = now or timezone.now()
    duty = (
        Duty.objects.select_for_update().select_related("cascade__tree__committee").get(pk=duty.pk)
    )
    if duty.escalated_at is not None or duty.reported_at is not None:
        return duty
    cascade = duty.cascade
    committee = cascade.tree.committee
    target = _next_duty(duty)
    people = Reach.objects.filter(duty=duty, confirmed_at__isnull=True)
    handed = people.count()
    if target is not None:
        people.update(duty=target)
        takers = [target.captain]
    else:
        people.update(duty=None, handed_to_coordinators=True)
        takers = list(coordinators_of(committee))
    duty.escalated_at = now
    duty.save(update_fields=["escalated_at"])
    queue_messages(
        takers,
        HANDOVER_TEMPLATE,
        {"cascade": cascade.pk, "duty": duty.pk, "people": handed},
        priority=Priority.URGENT,
        idempotency_prefix=f"trees:{cascade.pk}:handover:{duty.pk}",
    )
    record(
        "trees.escalate_duty",
        obj=duty,
        committee=committee,
        cascade=cascade.pk,
        to_duty=target.pk if target else None,
        people=handed,
    )
    return target


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """The periodic pass (trees_tick): escalate every overdue captain. Returns how many."""
    now = now or timezone.now()
    done = 0
    for duty in overdue_duties(now):
        escalate_duty(duty, now=now)
        done += 1
    return done


# Ending and figures ---------------------------------------------------------------------


def _seconds(cascade: Cascade, moment: dt.datetime | None) -> float | None:
    return None if moment is None else round((moment - cascade.started_at).total_seconds(), 1)


def live_figures(cascade: Cascade) -> dict[str, Any]:
    """People, confirmed, time to 50%, 90% and 100% confirmed (seconds), never, escalations."""
    times = sorted(
        Reach.objects.filter(cascade=cascade, confirmed_at__isnull=False).values_list(
            "confirmed_at", flat=True
        )
    )
    people = Reach.objects.filter(cascade=cascade).count()

    def at(share: float) -> float | None:
        need = math.ceil(share * people)
        return _seconds(cascade, times[need - 1]) if people and len(times) >= need else None

    return {
        "people": people,
        "confirmed": len(times),
        "t50_s": at(0.5),
        "t90_s": at(0.9),
        "t100_s": at(1.0),
        "never": people - len(times),
        "escalations": Duty.objects.filter(cascade=cascade, escalated_at__isnull=False).count(),
    }


@transaction.atomic
def end_cascade(cascade: Cascade, *, actor: User) -> Cascade:
    """Close the cascade: its figures are kept (the per-person rows expire later)."""
    cascade = (
        Cascade.objects.select_for_update().select_related("tree__committee").get(pk=cascade.pk)
    )
    _open(cascade)
    cascade.figures = live_figures(cascade)
    cascade.ended_at = timezone.now()
    cascade.save(update_fields=["figures", "ended_at"])
    record(
        "trees.end_cascade",
        actor=actor,
        obj=cascade,
        committee=cascade.tree.committee,
        drill=cascade.is_drill,
        confirmed=cascade.figures["confirmed"],
        people=cascade.figures["people"],
    )
    return cascade


def handled_by(duty: Duty) -> QuerySet[Reach]:
    return (
        Reach.objects.filter(duty=duty)
        .select_related("person")
        .order_by(F("confirmed_at").asc(nulls_first=True), "person__display_name", "pk")
    )
