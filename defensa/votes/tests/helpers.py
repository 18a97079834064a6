"""Shared pieces of the vote tests: a vote, the codes its voters were sent, signed texts."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from defensa.committees.models import Committee
from defensa.notify.models import Delivery
from defensa.notify.transports.twilio import signature
from defensa.testing.peers.twilio import AUTH_TOKEN
from defensa.votes import actions
from defensa.votes.models import Vote, Voter

BASE = "https://defensa.example.org"
PATH = "/notify/twilio/inbound/"
_sids = itertools.count(1)


def data(**overrides: Any) -> actions.VoteData:
    now = timezone.now()
    values: dict[str, Any] = {
        "kind": "strike",
        "question_en": "Do you authorise a strike from Monday?",
        "question_es": "¿Autorizas una huelga desde el lunes?",
        "options": [],
        "rule": "two_thirds",
        "share": 0,
        "quorum": 50,
        "opens_at": now,
        "closes_at": now + dt.timedelta(days=2),
        "practice": False,
    }
    values.update(overrides)
    return actions.VoteData(**values)


def run_tasks() -> None:
    """What the background worker (`db_worker`) does for each task waiting (opening a vote):
    claim it, run it, mark it done. Not the command itself: it closes the database connection
    between tasks, which a test's transaction cannot survive on PostgreSQL."""
    for waiting in DBTaskResult.objects.ready():
        waiting.claim("test")
        found = waiting.task_result
        waiting.set_successful(waiting.task.call(*found.args, **found.kwargs))


def open_vote(committee: Committee, actor, **overrides: Any) -> Vote:  # type: ignore[no-untyped-def]
    """A vote set up by its coordinator and, when it opens now, opened by the worker."""
    vote = actions.create_vote(committee, data(**overrides), actor=actor)
    run_tasks()
    vote.refresh_from_db()
    return vote


def codes(vote: Vote) -> dict[int, str]:
    """Each voter's one-time code by user id, opened from the messages queued for them (what
    the voter reads in their message)."""
    found = {}
    for delivery in Delivery.objects.filter(idempotency_key__startswith=f"vote_code:{vote.pk}:"):
        voter = Voter.objects.get(pk=delivery.context["voter"])
        code = actions.unseal_word(vote, delivery.context["sealed"], "code")
        assert code is not None
        found[voter.user_id] = code
    return found


def text(client, body: str, *, number: str):  # type: ignore[no-untyped-def]
    params = {
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": f"SM{next(_sids):032d}",
    }
    header = signature(AUTH_TOKEN, f"{BASE}{PATH}", params)
    return client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)
