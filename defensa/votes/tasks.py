"""Opening a vote in the background (Django Tasks, queue "urgent").

Freezing a roll of 20,000 voters, writing their ballots and queueing each voter's code takes
tens of seconds on a small machine: too long for the coordinator's request. The vote is
created scheduled to open now, this task opens it at once, and the periodic pass
(`votes_tick`) opens it if the task was lost. Opening is idempotent: the vote row is locked
and only a scheduled vote whose time has come is opened.
"""

from __future__ import annotations

from django_tasks import task

from defensa.votes import actions
from defensa.votes.models import Vote


@task(queue_name="urgent")
def open_vote(vote_id: int) -> bool:
    vote = Vote.objects.filter(pk=vote_id).first()
    return vote is not None and actions.open_due(vote)
