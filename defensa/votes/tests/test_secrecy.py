"""Secret ballot: the voted-marker and the ballot share no column, order, time or id; the
count of ballots equals the list of those who voted."""

from __future__ import annotations

import pytest
from django.db import connection, models

from defensa.core.testing import join, make_user
from defensa.notify.models import Delivery
from defensa.votes import actions
from defensa.votes.models import Ballot, Option, Vote, Voter
from defensa.votes.tests.helpers import codes, open_vote

pytestmark = pytest.mark.django_db


def test_the_schema_links_no_ballot_to_any_voter():
    ballot = {f.name: f for f in Ballot._meta.concrete_fields}
    # What a ballot is: its vote, its option, a digest of the voter's receipt. Nothing else.
    assert set(ballot) == {"id", "vote", "option", "receipt_digest"}
    for f in ballot.values():
        assert not isinstance(f, models.DateTimeField | models.DateField)
        if f.is_relation:
            assert f.related_model in (Vote, Option)
    voter = {f.name: f for f in Voter._meta.concrete_fields}
    assert set(voter) == {"id", "vote", "user", "code_digest", "voted", "language"}
    for f in voter.values():
        assert not isinstance(f, models.DateTimeField | models.DateField)
        assert not (f.is_relation and f.related_model in (Ballot, Option))
    # No other table points at a ballot.
    for model in (Vote, Option, Voter, Delivery):
        for f in model._meta.concrete_fields:
            assert not (f.is_relation and f.related_model is Ballot)


def _electorate(net, size: int):  # type: ignore[no-untyped-def]
    people = [make_user(f"voter{n}") for n in range(size)]
    for person in people:
        join(person, net.east)
    return people


def test_after_a_vote_the_rows_hold_no_link(net):
    people = _electorate(net, 40)
    vote = open_vote(net.east, net.omar, rule="majority")
    issued = codes(vote)
    # They vote in the order of their accounts: twenty yes, then twenty no.
    receipts = []
    for n, person in enumerate(people):
        receipts.append(actions.cast_ballot(issued[person.pk], 1 if n < 20 else 2, origin="web"))
    before = list(
        Ballot.objects.filter(vote=vote, option__isnull=False).values_list("pk", flat=True)
    )
    vote = actions.close_vote(vote)
    rows = list(
        Ballot.objects.filter(vote=vote).order_by("pk").values_list("pk", "option__position")
    )
    # Every ballot was written anew at the close: no id of the voting period survives.
    assert not {pk for pk, _pos in rows} & set(before)
    # The rows' order is not the order of voting (a 1 in 137 billion chance that it is).
    assert [pos for _pk, pos in rows] != [1] * 20 + [2] * 20
    # Nothing in a voter's row says anything of a ballot, or when.
    values = Voter.objects.filter(vote=vote).values_list("code_digest", "voted", "language")
    digests = set(Ballot.objects.filter(vote=vote).values_list("receipt_digest", flat=True))
    assert not {row[0] for row in values} & digests
    # The receipts the voters hold are not in any row in the clear.
    held = {r.receipt for r in receipts}
    for row in Ballot.objects.filter(vote=vote).values():
        assert not {str(v) for v in row.values()} & held
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(DISTINCT xmin::text) FROM votes_ballot WHERE vote_id = %s", [vote.pk]
            )
            # All written by one transaction (the close): no ballot's transaction is a voter's.
            assert cursor.fetchone()[0] == 1


def test_the_count_equals_the_list_of_those_who_voted(net, smtp_server):
    from defensa.notify.tests.helpers import run_worker

    people = _electorate(net, 12)
    vote = open_vote(
        net.east,
        net.omar,
        kind="options",
        rule="majority",
        quorum=0,
        options=[("Picket", "Piquete"), ("March", "Marcha"), ("Wait", "Esperar")],
    )
    issued = codes(vote)
    voters = people[:9]
    for n, person in enumerate(voters):
        actions.cast_ballot(issued[person.pk], 1 + n % 3, origin="sms" if n % 2 else "web")
    run_worker()
    vote = actions.close_vote(vote, actor=net.omar)
    marked = set(Voter.objects.filter(vote=vote, voted=True).values_list("user_id", flat=True))
    assert marked == {p.pk for p in voters}
    assert Ballot.objects.filter(vote=vote).count() == len(marked) == vote.result["cast"]
    assert vote.result["voted"] == len(marked)
    assert sum(vote.result["options"].values()) == len(marked)
    assert vote.result["options"] == {"1": 3, "2": 3, "3": 3}
    assert vote.result["passed"] is False  # a three-way tie passes nothing
