"""Opening a vote freezes its roll and sends each voter a code; ballots on the web and by
text; each code votes once; results only after the close."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.core.testing import join, make_user, sign_in
from defensa.notify.models import Delivery
from defensa.notify.tests.helpers import run_worker
from defensa.votes import actions
from defensa.votes.models import Ballot, State, Vote, Voter
from defensa.votes.tests.helpers import codes, open_vote, text

pytestmark = pytest.mark.django_db

ROLL = {"ana", "dani", "vero", "lucia", "mo"}  # Boyle Heights' full members; pat is on probation


def test_the_roll_is_the_full_members_frozen_at_opening(net):
    vote = open_vote(net.boyle, net.ana)
    on_roll = {v.user.display_name.lower() for v in Voter.objects.filter(vote=vote)}
    assert on_roll == ROLL
    assert vote.roll_size == 5 and vote.state == State.OPEN
    assert Ballot.objects.filter(vote=vote).count() == 5  # one empty slot each
    # Someone who becomes a full member after the opening is not on this roll.
    late = make_user("late")
    join(late, net.boyle)
    assert not Voter.objects.filter(vote=vote, user=late).exists()
    assert set(codes(vote)) == {u.pk for u in (net.ana, net.dani, net.vero, net.lucia, net.mo)}


def test_the_code_message_is_rendered_with_the_code_and_sealed_in_the_outbox(net):
    from defensa.notify.messages import render

    vote = open_vote(net.boyle, net.ana)
    code = codes(vote)[net.mo.pk]
    delivery = Delivery.objects.filter(recipient=net.mo, template="vote_code").first()
    assert code not in str(delivery.context)
    assert code in render(delivery).body


def test_a_web_ballot_and_a_text_ballot_count_once_each(net, twilio_peer):
    vote = open_vote(net.boyle, net.ana)
    issued = codes(vote)
    page = Client().post(
        f"/votes/v/{vote.code}/", {"code": issued[net.mo.pk].lower(), "choice": "1"}
    )
    assert page.status_code == 200 and b"receipt" in page.content
    text(Client(), f"VOTO {issued[net.dani.pk]} si", number="+13235550150")
    assert Voter.objects.filter(vote=vote, voted=True).count() == 2
    assert Ballot.objects.filter(vote=vote, option__isnull=False).count() == 2
    reply = Delivery.objects.get(template="vote_sms_reply")
    assert reply.context["outcome"] == "counted" and reply.address_hint == "•••"
    # The same codes again: refused, nothing stored.
    again = Client().post(f"/votes/v/{vote.code}/", {"code": issued[net.mo.pk], "choice": "2"})
    assert again.status_code == 400 and "already used" in again.content.decode()
    text(Client(), f"VOTE {issued[net.dani.pk]} NO", number="+13235550150")
    assert Delivery.objects.filter(template="vote_sms_reply").last().context["outcome"] == "used"
    assert Ballot.objects.filter(vote=vote, option__isnull=False).count() == 2


def test_wrong_codes_and_choices_are_refused_and_store_nothing(net):
    vote = open_vote(net.boyle, net.ana)
    other = open_vote(net.east, net.omar)
    issued = codes(vote)
    for body in ("VOTE", "VOTE XXXX 1", "VOTE ABCDEFGHJK 1", f"VOTE {issued[net.mo.pk]} 7"):
        text(Client(), body, number="+13235550151")
    outcomes = list(
        Delivery.objects.filter(template="vote_sms_reply").values_list(
            "context__outcome", flat=True
        )
    )
    assert outcomes == ["code", "code", "code", "choice"]
    # A code of another vote, on this vote's page.
    elsewhere = codes(other)[net.omar.pk]
    page = Client().post(f"/votes/v/{vote.code}/", {"code": elsewhere, "choice": "1"})
    assert page.status_code == 400
    assert not Voter.objects.filter(voted=True).exists()
    assert not Ballot.objects.filter(option__isnull=False).exists()


def test_results_are_hidden_until_the_close(net, smtp_server):
    vote = open_vote(net.boyle, net.ana, quorum=0, rule="majority")
    issued = codes(vote)
    actions.cast_ballot(issued[net.mo.pk], 1, origin="web")
    coordinator = sign_in(Client(), net.ana)
    before = coordinator.get(f"/votes/{vote.pk}/").content.decode()
    public = Client().get(f"/votes/v/{vote.code}/").content.decode()
    assert "<h2>Result</h2>" not in before and "<h2>Result</h2>" not in public
    assert "1 has voted" in before
    run_worker()  # every code has gone out: the coordinator may close early
    actions.close_vote(vote, actor=net.ana)
    after = Client().get(f"/votes/v/{vote.code}/").content.decode()
    assert "<h2>Result</h2>" in after and "Passed" in after


def test_ballots_after_the_closing_time_are_refused(net):
    vote = open_vote(net.boyle, net.ana)
    issued = codes(vote)
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(actions.VoteError) as error:
        actions.cast_ballot(issued[net.mo.pk], 1, origin="web")
    assert error.value.code == "closed"
    assert actions.tick() == {"opened": 0, "closed": 1}
    assert Vote.objects.get(pk=vote.pk).state == State.CLOSED


def test_opening_now_is_the_workers_job_not_the_requests(net):
    """Freezing a large roll takes long: the coordinator's request only schedules it, the
    background worker opens it at once, and the periodic pass would if the task were lost."""
    from django_tasks_db.models import DBTaskResult

    from defensa.votes.tests.helpers import data, run_tasks

    client = sign_in(Client(), net.ana)
    vote = actions.create_vote(net.boyle, data(), actor=net.ana)
    assert vote.state == State.SCHEDULED and not Voter.objects.filter(vote=vote).exists()
    assert not Delivery.objects.filter(template="vote_code").exists()
    assert "Opening now" in client.get(f"/votes/{vote.pk}/").content.decode()
    run_tasks()
    vote.refresh_from_db()
    assert vote.state == State.OPEN and vote.roll_size == len(ROLL)
    assert Delivery.objects.filter(template="vote_code").count() == len(ROLL)
    page = client.get(f"/votes/{vote.pk}/").content.decode()
    assert "Opening now" not in page and "5 people on the roll" in page
    # Run again (a retry, or the periodic pass after the task): nothing opens twice.
    assert actions.tick()["opened"] == 0
    # A worker stopped after freezing the roll: the periodic pass finishes the opening.
    stopped = actions.create_vote(net.boyle, data(), actor=net.ana)
    with transaction.atomic():
        actions._freeze_roll(Vote.objects.select_for_update().get(pk=stopped.pk))  # noqa: SLF001
    stopped.refresh_from_db()
    assert stopped.state == State.OPENING and stopped.roll_size == len(ROLL)
    assert "Opening now" in client.get(f"/votes/{stopped.pk}/").content.decode()
    assert actions.tick()["opened"] == 1
    stopped.refresh_from_db()
    assert stopped.state == State.OPEN
    assert not Voter.objects.filter(vote=stopped, code_digest__startswith=actions.PENDING).exists()
    assert len(codes(stopped)) == len(ROLL)
    # A lost task: the periodic pass opens the vote all the same.
    lost = actions.create_vote(net.boyle, data(), actor=net.ana)
    DBTaskResult.objects.all().delete()
    assert actions.tick()["opened"] == 1
    lost.refresh_from_db()
    assert lost.state == State.OPEN


def test_a_scheduled_vote_opens_on_time_with_the_roll_of_that_moment(net):
    start = timezone.now() + dt.timedelta(hours=1)
    vote = open_vote(net.boyle, net.ana, opens_at=start, closes_at=start + dt.timedelta(days=1))
    assert vote.state == State.SCHEDULED and not Voter.objects.filter(vote=vote).exists()
    late = make_user("late")
    join(late, net.boyle)
    assert actions.tick(now=start)["opened"] == 0  # not yet: the clock has not reached it
    Vote.objects.filter(pk=vote.pk).update(opens_at=timezone.now())
    assert actions.tick()["opened"] == 1
    assert Voter.objects.filter(vote=vote).count() == 6


def test_receipts_confirm_a_counted_ballot_after_the_close(net, smtp_server):
    vote = open_vote(net.boyle, net.ana)
    cast = actions.cast_ballot(codes(vote)[net.vero.pk], 1, origin="web")
    assert not actions.receipt_counted(vote, cast.receipt)  # not before the close
    run_worker()
    vote = actions.close_vote(vote, actor=net.ana)
    assert actions.receipt_counted(vote, cast.receipt.lower())
    assert not actions.receipt_counted(vote, "ZZZZZZZZZZ")
    page = Client().post(f"/votes/v/{vote.code}/", {"receipt": cast.receipt}, follow=True)
    assert "Your ballot was counted." in page.content.decode()


def test_practice_votes_are_marked_everywhere(net):
    from defensa.notify.messages import render

    vote = open_vote(net.boyle, net.ana, practice=True)
    assert "PRACTICE VOTE" in Client().get(f"/votes/v/{vote.code}/").content.decode()
    coordinator = sign_in(Client(), net.ana)
    assert "PRACTICE VOTE" in coordinator.get(f"/votes/{vote.pk}/").content.decode()
    assert "(practice)" in coordinator.get("/votes/").content.decode()
    delivery = Delivery.objects.filter(template="vote_code").first()
    assert "PRACTICE VOTE" in render(delivery).body


def test_the_helios_roll_is_an_audited_reveal_for_coordinators_only(net):
    vote = open_vote(net.boyle, net.ana)
    assert Client().get(f"/votes/{vote.pk}/helios-roll.csv").status_code in (302, 404)
    other = sign_in(Client(), net.omar)
    assert other.get(f"/votes/{vote.pk}/helios-roll.csv").status_code == 404
    response = sign_in(Client(), net.ana).get(f"/votes/{vote.pk}/helios-roll.csv")
    lines = response.content.decode().strip().splitlines()
    assert len(lines) == 5
    assert all(line.startswith("password,") and line.count(",") == 3 for line in lines)
    assert "mo@example.org" in response.content.decode()
    assert AuditEntry.objects.filter(action="votes.roll_revealed", actor_id=net.ana.pk).exists()


def test_the_cast_audit_entry_names_neither_voter_nor_ballot(net):
    vote = open_vote(net.boyle, net.ana)
    actions.cast_ballot(codes(vote)[net.mo.pk], 1, origin="web")
    entry = AuditEntry.objects.get(action="votes.cast")
    assert entry.actor_id is None and entry.object_id == str(vote.pk)
    assert set(entry.data) == {"origin"}
