"""Quorum and the three rules; a vote closed while codes are still going out."""

from __future__ import annotations

import pytest
from django.utils import timezone

from defensa.core.testing import join, make_user
from defensa.notify.models import Delivery
from defensa.votes import actions
from defensa.votes.models import Rule, Vote
from defensa.votes.tests.helpers import open_vote

pytestmark = pytest.mark.django_db


def _vote(rule: str, share: int = 0, quorum: int = 0) -> Vote:
    vote = Vote(rule=rule, share=share, quorum=quorum, roll_size=10)
    return vote


@pytest.mark.parametrize(
    ("rule", "share", "quorum", "yes", "no", "passed", "quorum_met"),
    [
        (Rule.MAJORITY, 0, 0, 3, 2, True, True),
        (Rule.MAJORITY, 0, 0, 2, 2, False, True),  # a tie is not a majority
        (Rule.TWO_THIRDS, 0, 0, 4, 2, True, True),  # exactly two-thirds passes
        (Rule.TWO_THIRDS, 0, 0, 3, 2, False, True),
        (Rule.SHARE, 50, 0, 5, 0, True, True),  # 5 of 10 on the roll
        (Rule.SHARE, 50, 0, 4, 0, False, True),  # everyone who voted said yes: not enough
        (Rule.MAJORITY, 0, 60, 5, 0, False, False),  # quorum: 6 of 10 must vote
        (Rule.MAJORITY, 0, 60, 5, 1, True, True),
    ],
)
def test_rules_and_quorum(rule, share, quorum, yes, no, passed, quorum_met):
    result = actions.outcome(_vote(rule, share, quorum), {1: yes, 2: no})
    assert result["passed"] is passed
    assert result["quorum_met"] is quorum_met
    assert result["cast"] == yes + no


def test_closing_early_waits_for_the_codes_but_the_closing_time_does_not(net):
    vote = open_vote(net.boyle, net.ana)
    queued = actions.codes_still_queued(vote)
    assert queued > 0
    with pytest.raises(actions.VoteError) as error:
        actions.close_vote(vote, actor=net.ana)
    assert error.value.code == "sending"
    assert Vote.objects.get(pk=vote.pk).state == "open"  # nothing changed
    # At the closing time the vote closes as announced; codes not sent are withdrawn.
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now())
    assert actions.tick()["closed"] == 1
    vote = Vote.objects.get(pk=vote.pk)
    assert vote.state == "closed" and vote.result["uninformed"] == queued
    assert not Delivery.objects.filter(template="vote_code", status="queued").exists()


def test_a_code_message_still_waiting_after_the_close_says_it_closed(net):
    from defensa.notify.messages import render

    vote = open_vote(net.boyle, net.ana)
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now())
    actions.tick()
    delivery = Delivery.objects.filter(template="vote_code").first()
    body = render(delivery).body
    assert "has closed" in body and "code:" not in body


def test_an_empty_roll_and_bad_rules_store_nothing(net):
    empty = make_user("solo")
    from defensa.committees.models import Committee

    lonely = Committee.objects.create(name="Lonely", slug="lonely", parent=net.city)
    join(empty, lonely, full=False, is_coordinator=False)
    for overrides, code in (
        ({}, "roll"),
        ({"kind": "options", "options": [("Only", "Única")]}, "options"),
        ({"rule": "share", "share": 0}, "share"),
        ({"rule": "share", "share": 101}, "share"),
        ({"quorum": 101}, "quorum"),
        ({"closes_at": timezone.now()}, "closes"),
    ):
        with pytest.raises(actions.VoteError) as error:
            open_vote(lonely, net.admin, **overrides)
        assert error.value.code == code
    assert not Vote.objects.exists()


def test_the_roll_and_ballots_go_after_their_time_the_result_stays(net):
    import datetime as dt

    from defensa.core.retention import purge
    from defensa.votes.models import Ballot, Voter
    from defensa.votes.tests.helpers import codes

    vote = open_vote(net.boyle, net.ana, quorum=0)
    actions.cast_ballot(codes(vote)[net.mo.pk], 1, origin="web")
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now())
    actions.tick()
    purge(now=timezone.now() + dt.timedelta(days=30))
    assert Ballot.objects.filter(vote=vote).count() == 1
    purge(now=timezone.now() + dt.timedelta(days=91))
    assert not Ballot.objects.filter(vote=vote).exists()
    assert not Voter.objects.filter(vote=vote).exists()
    assert Vote.objects.get(pk=vote.pk).result["cast"] == 1
