"""Votes by secret ballot: a question with options, yes or no, or a strike authorisation.

A Vote belongs to the committee whose coordinators run it; its roll is the members in good
standing (full members) of that committee and the committees under it, frozen when it opens.
A workplace vote's roll is that workplace's workers instead: the members in good standing
recorded there and, if the vote says so, its contacts (who get their code by text, to the
number sealed in organising, resealed under the vote's key in the outbox).

Secret ballot. Two tables that share nothing but the vote:

- `Voter`: the roll and the voted-marker. One row per eligible person, with a keyed digest of
  their one-time code and a yes/no "has voted". No time, no ballot, no order of voting.
- `Ballot`: what was chosen. At opening the vote gets one empty ballot per voter on its roll
  (all alike, in one batch); a vote fills a slot picked at random, so a ballot's id says
  nothing about when it was cast. At closing every ballot is read, shuffled and written anew in
  one batch: ids, row order and (on PostgreSQL) the transaction that wrote them are the same
  for every ballot. A ballot holds the option and a keyed digest of the voter's receipt code,
  no timestamp at all.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import INTERNAL, PUBLIC, SECRET, SENSITIVE, FieldClass, c
from defensa.core.languages import LANGUAGE_CODE_LENGTH, Language, own_words

# A vote's record (question, rules, result) is the committee's minutes.
VOTE_RETENTION = dt.timedelta(days=365 * 3)
# The roll and the ballots outlive the close long enough for a recount or a challenge.
BALLOT_RETENTION = dt.timedelta(days=90)
MAX_AHEAD = dt.timedelta(days=365)
MAX_LENGTH = dt.timedelta(days=60)
MAX_OPTIONS = 12

VOTE_CODE_LENGTH = 6  # the vote's public code, on its link
VOTER_CODE_LENGTH = 10  # a voter's one-time code: 50 bits
RECEIPT_LENGTH = 10


class Kind(models.TextChoices):
    YES_NO = "yes_no", _("Yes or no")
    OPTIONS = "options", _("A choice between options")
    STRIKE = "strike", _("Strike authorisation")


class Rule(models.TextChoices):
    MAJORITY = "majority", _("Simple majority of votes cast")
    TWO_THIRDS = "two_thirds", _("Two-thirds of votes cast")
    SHARE = "share", _("A share of everyone eligible")


class State(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    # The roll is frozen and the voters' codes are being queued (votes.actions.open_due).
    OPENING = "opening", _("Opening")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


TRANSITIONS = {
    State.SCHEDULED: (State.OPENING, State.CANCELLED),
    State.OPENING: (State.OPEN, State.CANCELLED),
    State.OPEN: (State.CLOSED, State.CANCELLED),
    State.CLOSED: (),
    State.CANCELLED: (),
}


class Vote(models.Model):
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="votes"
    )
    code = models.CharField(max_length=12, unique=True)
    kind = models.CharField(_("kind of vote"), max_length=10, choices=Kind.choices)
    question_en = models.CharField(_("question in English"), max_length=300)
    question_es = models.CharField(_("question in Spanish"), max_length=300)
    # The question in the network's other languages, each optional: {"vi": {"question":
    # "..."}, ...} (committees.own_words checks it); the options' labels are on each Option.
    translations = models.JSONField(default=dict, blank=True)
    practice = models.BooleanField(_("practice vote"), default=False)
    # A workplace roll: the workplace's workers rather than the committee's members.
    workplace = models.ForeignKey(
        "organising.Workplace",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="votes",
    )
    include_contacts = models.BooleanField(_("contacts vote too"), default=False)
    rule = models.CharField(_("what passes"), max_length=12, choices=Rule.choices)
    share = models.PositiveSmallIntegerField(_("share of everyone eligible (%)"), default=0)
    # A percent sign, not a placeholder: the string is never %-formatted.
    # xgettext:no-python-format
    quorum = models.PositiveSmallIntegerField(_("quorum (% of the roll who must vote)"), default=0)
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.SCHEDULED)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    roll_size = models.PositiveIntegerField(default=0)  # frozen at opening
    closed_at = models.DateTimeField(null=True, blank=True)
    # {"cast": n, "options": {position: n}, "quorum_met": bool, "passed": bool, "winner": p,
    #  "uninformed": n}: written once, at closing.
    result = models.JSONField(default=dict, blank=True)
    # Seals each voter's code and receipt in the outbox; shredded at closing.
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    _pub = c(PUBLIC, VOTE_RETENTION)
    _c = c(INTERNAL, VOTE_RETENTION, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "code",
                "kind",
                "question_en",
                "question_es",
                "translations",
                "practice",
                "rule",
                "share",
                "quorum",
                "opens_at",
                "closes_at",
                "state",
                "roll_size",
                "closed_at",
                "result",
            ),
            _pub,
        ),
        **dict.fromkeys(
            ("committee", "opened_by", "created_at", "workplace", "include_contacts"), _c
        ),
        "data_key": c(SECRET, VOTE_RETENTION),
    }
    RETENTION_ANCHOR = "created_at"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Vote {self.code}"

    def question(self, language: str | None = None) -> str:
        """The question in `language` (the active one when None): English when not given."""
        return self.question_in(language)[0]

    def question_in(self, language: str | None = None) -> tuple[str, Language]:
        """The question and the language it is in (for a page's lang attribute)."""
        return own_words(
            language, "question", en=self.question_en, es=self.question_es, others=self.translations
        )

    @property
    def is_open(self) -> bool:
        return self.state == State.OPEN and self.opens_at <= timezone.now() < self.closes_at


class Option(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()  # 1, 2, 3...: what a voter texts
    label_en = models.CharField(max_length=120)
    label_es = models.CharField(max_length=120)
    # The label in the network's other languages, each optional: {"vi": {"label": "..."}}.
    translations = models.JSONField(default=dict, blank=True)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "vote", "position", "label_en", "label_es", "translations"),
        c(PUBLIC, VOTE_RETENTION),
    )
    RETENTION_ANCHOR = "vote__created_at"

    class Meta:
        ordering = ["position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["vote", "position"], name="one_option_per_position")
        ]

    def __str__(self) -> str:
        return f"Option {self.position}"

    def label(self, language: str | None = None) -> str:
        """The label in `language` (the active one when None): English when not given."""
        return self.label_in(language)[0]

    def label_in(self, language: str | None = None) -> tuple[str, Language]:
        return own_words(
            language, "label", en=self.label_en, es=self.label_es, others=self.translations
        )


class Voter(models.Model):
    """One person on a vote's roll, and whether they have voted. Never what, never when."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="voters")
    # The link to the person dies with their account; the marker stays, so the count of
    # markers still equals the count of ballots.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A contact of a workplace roll (no account): the link dies with the contact's record.
    worker = models.ForeignKey(
        "organising.Worker", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Keyed digest of the one-time code (the code itself is only ever in the voter's message,
    # sealed under the vote's key until it is sent).
    code_digest = models.CharField(max_length=64, unique=True)
    voted = models.BooleanField(default=False)
    language = models.CharField(max_length=LANGUAGE_CODE_LENGTH, default="en")

    _i = c(INTERNAL, BALLOT_RETENTION, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "vote", "user", "worker", "voted", "language"), _i),
        "code_digest": c(SECRET, BALLOT_RETENTION),
    }
    RETENTION_ANCHOR = "vote__closes_at"

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["vote", "user"], name="one_roll_entry_per_person")
        ]

    def __str__(self) -> str:
        return f"Voter #{self.pk}"


class Ballot(models.Model):
    """One ballot slot of a vote: empty until a vote fills it. Nothing in it names anyone."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="ballots")
    option = models.ForeignKey(Option, null=True, on_delete=models.CASCADE, related_name="+")
    # Keyed digest of the receipt code the voter was given: "was my ballot counted?".
    receipt_digest = models.CharField(max_length=64, blank=True)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "vote", "option"), c(INTERNAL, BALLOT_RETENTION, "coordinator")),
        "receipt_digest": c(SENSITIVE, BALLOT_RETENTION),
    }
    RETENTION_ANCHOR = "vote__closes_at"

    def __str__(self) -> str:
        return f"Ballot #{self.pk}"
