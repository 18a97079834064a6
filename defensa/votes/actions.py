"""Writes of votes: create (and open), open when due, cast, close, cancel.

Every write is atomic and records exactly one audit entry. A cast's entry names the vote and
how the ballot came (web or text), never the voter and never the ballot: the audit log must
not say who voted what. The one-time codes and receipts exist in the clear only in the
voter's own message; in the outbox they are sealed under the vote's data key, which is
shredded when the vote closes.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import math
import random
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.committees import own_words
from defensa.committees.access import committee_and_below
from defensa.committees.models import Committee, MemberStatus
from defensa.core import crypto
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.core.tokens import is_short_code, normal_code, short_code
from defensa.core.transitions import IllegalTransition, check_move
from defensa.notify.actions import Address, queue_message, queue_messages, queue_sealed_messages
from defensa.notify.models import Channel, Delivery, Priority, Status
from defensa.organising.models import Worker, Workplace
from defensa.votes.models import (
    MAX_AHEAD,
    MAX_LENGTH,
    MAX_OPTIONS,
    RECEIPT_LENGTH,
    TRANSITIONS,
    VOTE_CODE_LENGTH,
    VOTER_CODE_LENGTH,
    Ballot,
    Kind,
    Option,
    Rule,
    State,
    Vote,
    Voter,
)

CODE_TEMPLATE = "vote_code"
REPLY_TEMPLATE = "vote_sms_reply"
CODE_DIGEST_KEY = "votes.code"
RECEIPT_DIGEST_KEY = "votes.receipt"
BATCH = 1000


class VoteError(Exception):
    """A vote or ballot that cannot be taken; `message` is for the person (translated)."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code  # a short word, also the SMS reply's outcome


def code_digest(code: str, key: bytes | None = None) -> str:
    return keyed_digest(key or digest_key(CODE_DIGEST_KEY), normal_code(code))


def receipt_digest(vote: Vote, receipt: str) -> str:
    return keyed_digest(digest_key(RECEIPT_DIGEST_KEY), f"{vote.pk}:{normal_code(receipt)}")


def seal_word(vote: Vote, word: str, what: str) -> str:
    """A code sealed under the vote's key, short enough for a message's stored context."""
    blob = crypto.encrypt(vote.data_key, word, aad=f"votes.{what}#{vote.pk}")  # type: ignore[arg-type]
    return base64.urlsafe_b64encode(blob).decode().rstrip("=")


def unseal_word(vote: Vote, sealed: str, what: str) -> str | None:
    """The code, or None once the vote's key is shredded (the vote closed)."""
    if not sealed or vote.data_key is None:
        return None
    try:
        blob = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        return crypto.decrypt(vote.data_key, blob, aad=f"votes.{what}#{vote.pk}").decode()
    except (crypto.CryptoError, ValueError):
        return None


# Creating and opening --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VoteData:
    kind: str
    question_en: str
    question_es: str
    options: list[tuple[str, str]]  # (English, Spanish), for a choice between options
    rule: str
    share: int
    quorum: int
    opens_at: dt.datetime
    closes_at: dt.datetime
    practice: bool
    workplace: Workplace | None = None
    include_contacts: bool = False
    # The question and, for a choice between options, the options in other languages, each
    # optional: {"vi": {"question": "...", "options": ["...", "..."]}}.
    translations: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


# The words a vote keeps in the network's other languages, with the English fields' limits.
QUESTION_WORDS = own_words.Words("question", own_words.QUESTION, 300)
OPTION_WORDS = own_words.Words("options", own_words.OPTIONS, 120, lines=True)
VOTE_WORDS = (QUESTION_WORDS, OPTION_WORDS)


def _translations(data: VoteData) -> dict[str, dict[str, Any]]:
    """The other languages checked: known languages, the English limits, one option per
    English option (and none on a yes-or-no vote, whose answers are fixed)."""
    try:
        found = own_words.check(data.translations, VOTE_WORDS)
        count = len(data.options) if data.kind == Kind.OPTIONS else 0
        own_words.check_lines(found, OPTION_WORDS, count)
    except ValidationError as error:
        raise VoteError(error.messages[0], "translations") from error
    return found


FIXED_OPTIONS = {
    Kind.YES_NO: [("Yes", "Sí"), ("No", "No")],
    Kind.STRIKE: [("Yes, I authorise the strike", "Sí, autorizo la huelga"), ("No", "No")],
}


def _check_rules(data: VoteData, now: dt.datetime) -> None:
    if data.kind == Kind.OPTIONS and not 2 <= len(data.options) <= MAX_OPTIONS:
        raise VoteError(_("A choice between options needs between 2 and 12 options."), "options")
    if data.rule == Rule.SHARE and not 1 <= data.share <= 100:
        raise VoteError(_("The share of everyone eligible must be between 1 and 100%."), "share")
    if not 0 <= data.quorum <= 100:
        raise VoteError(_("The quorum must be between 0 and 100%."), "quorum")
    if data.opens_at < now - dt.timedelta(minutes=5) or data.opens_at > now + MAX_AHEAD:
        raise VoteError(_("The vote must open from now to a year ahead."), "opens")
    if not data.opens_at < data.closes_at <= data.opens_at + MAX_LENGTH:
        raise VoteError(_("The vote must close after it opens, within 60 days."), "closes")


def roll_of(committee: Committee) -> QuerySet[User]:
    """Members in good standing (full members) of the committee and the ones under it."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__committee_id__in=committee_and_below(committee),
            memberships__status=MemberStatus.FULL,
        )
        .distinct()
        .order_by("pk")
    )


def members_roll(vote: Vote) -> QuerySet[User]:
    """The people with an account on the vote's roll: the committee's members in good
    standing, or (a workplace vote) those of them recorded as working there."""
    people = roll_of(vote.committee)
    if vote.workplace_id is not None:
        people = people.filter(organising_workers__workplace_id=vote.workplace_id)
    return people


def contacts_roll(vote: Vote) -> QuerySet[Worker]:
    """The workplace's contacts with a number, when the vote lets contacts vote."""
    if vote.workplace_id is None or not vote.include_contacts:
        return Worker.objects.none()
    return (
        Worker.objects.filter(
            workplace_id=vote.workplace_id, user__isnull=True, data_key__isnull=False
        )
        .exclude(phone_digest="")
        .order_by("pk")
    )


def voting_workplaces(committee: Committee) -> QuerySet[Workplace]:
    """The workplaces a committee's vote may take its roll from: its own and those of the
    committees under it, whose organising has not ended."""
    return Workplace.objects.filter(
        committee_id__in=committee_and_below(committee), ended_at__isnull=True
    )


# A voter whose code has not been made and queued yet. Never a keyed digest (those are hex),
# so no code a person types can match it; unique per voter, as the column is.
PENDING = "pending-"


def _empty_roll() -> VoteError:
    return VoteError(
        _("Nobody is on the roll: the committee has no members in good standing."), "roll"
    )


def _freeze_roll(vote: Vote) -> None:
    """Freeze the roll: one Voter per person on it (their code still to come) and one empty
    ballot slot each, in one transaction. Raises VoteError when nobody is on the roll."""
    check_move(TRANSITIONS, vote.state, State.OPENING)
    people = list(members_roll(vote).values_list("pk", "language"))
    contacts = list(contacts_roll(vote).values_list("pk", "language"))
    if not people and not contacts:
        raise _empty_roll()
    vote.data_key = crypto.new_key("votes.vote")
    vote.state = State.OPENING
    vote.roll_size = len(people) + len(contacts)
    vote.save(update_fields=["data_key", "state", "roll_size"])
    # Prepared INSERTs, not model instances: this transaction holds the database's write lock,
    # and building 40,000 instances for a roll of 20,000 took most of its time.
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    voter_sql = (
        f"INSERT INTO {quote(Voter._meta.db_table)} ({quote('vote_id')}, {quote('user_id')}, "  # noqa: S608
        f"{quote('worker_id')}, {quote('code_digest')}, {quote('voted')}, {quote('language')}) "
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    rows = [(vote.pk, pk, None, lang) for pk, lang in people] + [
        (vote.pk, None, pk, lang) for pk, lang in contacts
    ]
    # The empty ballots: all alike, so their ids and order carry nothing.
    ballot_sql = (
        f"INSERT INTO {quote(Ballot._meta.db_table)} ({quote('vote_id')}, "  # noqa: S608
        f"{quote('option_id')}, {quote('receipt_digest')}) VALUES (%s, NULL, '')"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH * 5):
            cursor.executemany(
                voter_sql,
                [
                    (vote_id, user_id, worker_id, PENDING + secrets.token_hex(16), False, lang)
                    for vote_id, user_id, worker_id, lang in rows[start : start + BATCH * 5]
                ],
            )
            cursor.executemany(ballot_sql, [(vote.pk,)] * len(rows[start : start + BATCH * 5]))


def _text_contacts(vote: Vote, voters: list[Voter], codes: dict[int, str]) -> int:
    """Each contact's code by text, to the number organising sealed; in the outbox the number
    is sealed under the vote's key, shredded at the close. No page shows it."""
    queued = 0
    workers = Worker.objects.in_bulk([v.worker_id for v in voters])
    for voter in voters:
        worker = workers.get(voter.worker_id)
        phone = crypto.unseal(worker, "phone") if worker is not None else None
        if worker is None or not phone:
            continue
        # One call per contact: each message carries its own sealed code. The outbox shows
        # no digit of the number ("•••"), and the number is sealed under the vote's key.
        queued += queue_sealed_messages(
            [(f"w{worker.pk}", Address(Channel.SMS, phone, worker.language), vote.data_key)],
            CODE_TEMPLATE,
            {
                "vote": vote.pk,
                "voter": voter.pk,
                "sealed": seal_word(vote, codes[voter.pk], "code"),
            },
            priority=Priority.URGENT,
            idempotency_prefix=f"vote_code:{vote.pk}",
            hint="•••",
        )
    return queued


def _send_codes(vote_id: int) -> int | None:
    """Make and queue the codes of the next batch of voters, in one short transaction (so a
    roll of thousands never holds the database for long). Returns how many messages were
    queued, or None when no voter is left waiting or the vote is no longer opening."""
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote_id)
        if vote.state != State.OPENING:
            return None
        voters = list(
            Voter.objects.filter(vote=vote, code_digest__startswith=PENDING).order_by("pk")[:BATCH]
        )
        if not voters:
            return None
        key = digest_key(CODE_DIGEST_KEY)  # once, not once per voter
        codes = {voter.pk: short_code(VOTER_CODE_LENGTH) for voter in voters}
        # One prepared statement run per row: bulk_update's CASE over a thousand ids cost
        # seconds a batch to build and to run.
        connection = transaction.get_connection()
        quote = connection.ops.quote_name
        sql = (
            f"UPDATE {quote(Voter._meta.db_table)} SET {quote('code_digest')} = %s "  # noqa: S608
            f"WHERE {quote('id')} = %s"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(code_digest(codes[v.pk], key), v.pk) for v in voters])
        queued = _text_contacts(vote, [v for v in voters if v.worker_id is not None], codes)
        members = [v for v in voters if v.user_id is not None]
        people = User.objects.in_bulk([v.user_id for v in members])
        if people:
            queued += queue_messages(
                [people[v.user_id] for v in members if v.user_id in people],
                CODE_TEMPLATE,
                {"vote": vote.pk},
                priority=Priority.URGENT,
                idempotency_prefix=f"vote_code:{vote.pk}",
                contexts={
                    v.user_id: {
                        "vote": vote.pk,
                        "voter": v.pk,
                        "sealed": seal_word(vote, codes[v.pk], "code"),
                    }
                    for v in members
                },
            )
        return queued


def new_code() -> str:
    while True:
        code = short_code(VOTE_CODE_LENGTH)
        if not Vote.objects.filter(code=code).exists():
            return code


@transaction.atomic
def create_vote(committee: Committee, data: VoteData, *, actor: User) -> Vote:
    """Create a vote, scheduled; one opening now is opened at once by the background worker
    (`tasks.open_vote`: the roll frozen, the codes sent), a later one by the periodic pass."""
    now = timezone.now()
    _check_rules(data, now)
    if (
        data.workplace is not None
        and not voting_workplaces(committee).filter(pk=data.workplace.pk).exists()
    ):
        raise VoteError(_("Choose a workplace this committee organises."), "workplace")
    if data.include_contacts and data.workplace is None:
        raise VoteError(_("Only a workplace vote can let contacts vote."), "contacts")
    translations = _translations(data)
    options = data.options if data.kind == Kind.OPTIONS else FIXED_OPTIONS[data.kind]
    fields = dataclasses.asdict(data)
    del fields["options"]
    fields["translations"] = {
        code: {"question": given["question"]}
        for code, given in translations.items()
        if "question" in given
    }
    vote = Vote.objects.create(committee=committee, code=new_code(), opened_by=actor, **fields)
    Option.objects.bulk_create(
        [
            Option(
                vote=vote,
                position=n,
                label_en=en,
                label_es=es,
                translations={
                    code: {"label": given["options"][n - 1]}
                    for code, given in translations.items()
                    if "options" in given
                },
            )
            for n, (en, es) in enumerate(options, start=1)
        ]
    )
    opens_now = vote.opens_at <= now
    if opens_now:
        # Said to the coordinator now, not found by the worker later (the roll is frozen then).
        if not members_roll(vote).exists() and not contacts_roll(vote).exists():
            raise _empty_roll()
        # The roll is frozen and the codes queued by the background worker, not in this
        # request: the task row is written in this transaction, so it runs if the vote exists.
        from defensa.votes.tasks import open_vote

        open_vote.enqueue(vote.pk)
    record(
        "votes.create_vote",
        actor=actor,
        obj=vote,
        committee=committee,
        kind=vote.kind,
        practice=vote.practice,
        opens_now=opens_now,
        languages=sorted(translations),
    )
    return vote


def _locked(vote: Vote) -> Vote:
    return Vote.objects.select_for_update().select_related("committee").get(pk=vote.pk)


# Casting ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Cast:
    vote: Vote
    receipt: str


def find_voter(code: str) -> Voter | None:
    normal = normal_code(code)
    if not is_short_code(normal, VOTER_CODE_LENGTH):
        return None
    return Voter.objects.select_related("vote").filter(code_digest=code_digest(normal)).first()


def cast_ballot(code: str, position: int, *, origin: str, vote: Vote | None = None) -> Cast:
    """Take one ballot for the voter holding `code` (one-time): mark them as having voted and
    fill an empty ballot picked at random. `vote`, when given, must be the code's vote (the
    web page of one vote). Nothing is stored when anything is wrong."""
    voter = find_voter(code)
    if voter is None or (vote is not None and voter.vote_id != vote.pk):
        raise VoteError(_("That code is not valid for this vote. Check it and try again."), "code")
    with transaction.atomic():
        found = _locked(voter.vote)
        voter = Voter.objects.select_for_update().get(pk=voter.pk)
        if not found.is_open:
            raise VoteError(_("This vote is not open."), "closed")
        if voter.voted:
            raise VoteError(_("That code was already used: each code votes once."), "used")
        option = Option.objects.filter(vote=found, position=position).first()
        if option is None:
            raise VoteError(_("Choose one of the options."), "choice")
        # An empty slot from a random point of the vote's slots (index seeks, not a count of
        # them all). Which slot it is matters only until the close, which writes every ballot
        # anew in a shuffled order.
        slots = Ballot.objects.filter(vote=found).order_by("pk").values_list("pk", flat=True)
        first, last = slots.first(), slots.reverse().first()
        if first is None or last is None:  # cannot happen: one slot per voter on the roll
            raise VoteError(_("This vote is not open."), "closed")
        start = first + secrets.randbelow(last - first + 1)
        empty = slots.filter(option__isnull=True)
        slot = empty.filter(pk__gte=start).first() or empty.first()
        if slot is None:
            raise VoteError(_("This vote is not open."), "closed")
        receipt = short_code(RECEIPT_LENGTH)
        Ballot.objects.filter(pk=slot).update(
            option=option, receipt_digest=receipt_digest(found, receipt)
        )
        voter.voted = True
        voter.save(update_fields=["voted"])
        record("votes.cast", obj=found, origin=origin)
    return Cast(found, receipt)


def reply_by_text(
    vote: Vote | None, number: str, language: str, word: str, sid: str, receipt: str = ""
) -> None:
    """Answer a ballot text; the number and the receipt are sealed under the vote's key."""
    with transaction.atomic():
        live = vote is not None and vote.data_key is not None and vote.data_key.wrapped
        context = {"vote": vote.pk if vote else 0, "outcome": word}
        if live and receipt:
            context["receipt"] = seal_word(vote, receipt, "receipt")  # type: ignore[arg-type]
        deliveries = queue_message(
            Address(Channel.SMS, number, language),
            REPLY_TEMPLATE,
            context,
            priority=Priority.URGENT,
            idempotency_key=f"vote_reply:{sid}",
            audit=False,
            address_key=vote.data_key if live else None,  # type: ignore[union-attr]
        )
        # The deliveries page shows the last digits of an address; of a voter's, nothing.
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(address_hint="•••")


# Closing ---------------------------------------------------------------------------------


def codes_still_queued(vote: Vote) -> int:
    return Delivery.objects.filter(
        idempotency_key__startswith=f"vote_code:{vote.pk}:",
        status__in=(Status.QUEUED, Status.SENDING),
    ).count()


def tally(vote: Vote) -> dict[int, int]:
    """Ballots per option position, counted from the ballots themselves."""
    counted = dict(
        Ballot.objects.filter(vote=vote, option__isnull=False)
        .values_list("option__position")
        .annotate(n=Count("pk"))
        .values_list("option__position", "n")
    )
    return {o.position: counted.get(o.position, 0) for o in vote.options.all()}


def outcome(vote: Vote, counts: dict[int, int]) -> dict[str, Any]:
    """Quorum, winner and whether it passed under the vote's rule."""
    cast = sum(counts.values())
    quorum_needed = math.ceil(vote.quorum * vote.roll_size / 100)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    winner, top = ordered[0] if ordered else (0, 0)
    tie = len(ordered) > 1 and ordered[1][1] == top
    if vote.rule == Rule.MAJORITY:
        enough = top * 2 > cast
    elif vote.rule == Rule.TWO_THIRDS:
        enough = top * 3 >= cast * 2
    else:
        enough = top * 100 >= vote.share * vote.roll_size
    quorum_met = cast >= quorum_needed
    passed = bool(cast) and quorum_met and enough and not tie
    return {
        "cast": cast,
        "options": {str(k): v for k, v in counts.items()},
        "quorum_needed": quorum_needed,
        "quorum_met": quorum_met,
        "winner": winner if passed else 0,
        "passed": passed,
    }


def _mix(vote: Vote) -> None:
    """Write every filled ballot anew, shuffled, in one batch; drop the old rows and the empty
    slots. One prepared INSERT over the shuffled rows (no per-row ORM work: a close of 20,000
    ballots must show its result within seconds)."""
    old = Ballot.objects.filter(vote=vote)
    filled = list(old.filter(option__isnull=False).values_list("option_id", "receipt_digest"))
    last = old.order_by("-pk").values_list("pk", flat=True).first() or 0
    random.SystemRandom().shuffle(filled)
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    table = quote(Ballot._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({quote('vote_id')}, {quote('option_id')}, "  # noqa: S608
        f"{quote('receipt_digest')}) VALUES (%s, %s, %s)"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(filled), BATCH * 5):
            cursor.executemany(
                sql, [(vote.pk, option, r) for option, r in filled[start : start + BATCH * 5]]
            )
    Ballot.objects.filter(vote=vote, pk__lte=last).delete()


def close_vote(vote: Vote, *, actor: User | None = None) -> Vote:
    """Close the vote: count, mix the ballots, shred the key that sealed codes and receipts.

    A coordinator closing early (`actor`) is refused while codes are still going out: voters
    who have not had theirs would lose their vote. At the closing time the vote closes as
    announced; codes not yet sent are cancelled and counted as `uninformed` in the result.
    """
    with transaction.atomic():
        vote = _locked(vote)
        try:
            check_move(TRANSITIONS, vote.state, State.CLOSED)
        except IllegalTransition:
            raise VoteError(_("This vote is not open."), "closed") from None
        pending = codes_still_queued(vote)
        if actor is not None and pending and timezone.now() < vote.closes_at:
            raise VoteError(
                _(
                    "Codes are still going out to voters: the vote can be closed early only "
                    "once every code has been sent."
                ),
                "sending",
            )
        Delivery.objects.filter(
            idempotency_key__startswith=f"vote_code:{vote.pk}:",
            status=Status.QUEUED,
        ).update(status=Status.CANCELLED)
        counts = tally(vote)
        voted = Voter.objects.filter(vote=vote, voted=True).count()
        result = outcome(vote, counts)
        result["uninformed"] = pending
        result["voted"] = voted
        _mix(vote)
        vote.state = State.CLOSED
        vote.closed_at = timezone.now()
        vote.result = result
        vote.save(update_fields=["state", "closed_at", "result"])
        if vote.data_key is not None:
            crypto.shred(vote.data_key)
        record(
            "votes.close_vote",
            actor=actor,
            obj=vote,
            committee=vote.committee,
            cast=result["cast"],
            passed=result["passed"],
            uninformed=pending,
        )
    return vote


@transaction.atomic
def cancel_vote(vote: Vote, *, actor: User) -> Vote:
    """Call the vote off: no result, the ballots are deleted, the key shredded."""
    vote = _locked(vote)
    try:
        check_move(TRANSITIONS, vote.state, State.CANCELLED)
    except IllegalTransition:
        raise VoteError(_("This vote has already ended."), "ended") from None
    Delivery.objects.filter(
        idempotency_key__startswith=f"vote_code:{vote.pk}:", status=Status.QUEUED
    ).update(status=Status.CANCELLED)
    deleted, _kinds = Ballot.objects.filter(vote=vote).delete()
    vote.state = State.CANCELLED
    vote.closed_at = timezone.now()
    vote.save(update_fields=["state", "closed_at"])
    if vote.data_key is not None:
        crypto.shred(vote.data_key)
    record("votes.cancel_vote", actor=actor, obj=vote, committee=vote.committee)
    return vote


def open_due(vote: Vote) -> bool:
    """Open a scheduled vote whose time has come, or finish opening one (the background task
    and the periodic pass): freeze the roll in one transaction, queue the codes a batch at a
    time, then open it. Safe to run twice or after a crash: each step picks up where the
    last left off. Returns whether it did anything."""
    with transaction.atomic():
        vote = _locked(vote)
        if vote.state == State.SCHEDULED and vote.opens_at <= timezone.now():
            try:
                _freeze_roll(vote)
            except VoteError:
                vote.state = State.CANCELLED
                vote.closed_at = timezone.now()
                vote.save(update_fields=["state", "closed_at"])
                record("votes.open_vote", obj=vote, committee=vote.committee, roll=0, queued=-1)
                return True
        elif vote.state != State.OPENING:
            return False
    queued = 0
    while (batch := _send_codes(vote.pk)) is not None:
        queued += batch
    with transaction.atomic():
        vote = _locked(vote)
        if vote.state != State.OPENING:  # cancelled meanwhile
            return True
        vote.state = State.OPEN
        vote.save(update_fields=["state"])
        record(
            "votes.open_vote",
            obj=vote,
            committee=vote.committee,
            roll=vote.roll_size,
            queued=queued,
        )
    return True


def tick(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Open what is due, close what ran out; each vote in its own transaction."""
    now = now or timezone.now()
    done = {"opened": 0, "closed": 0}
    # Due, and any whose opening a crash or a stopped worker interrupted.
    due = Q(state=State.SCHEDULED, opens_at__lte=now) | Q(state=State.OPENING)
    for vote in Vote.objects.filter(due):
        done["opened"] += open_due(vote)
    for vote in Vote.objects.filter(state=State.OPEN, closes_at__lte=now):
        close_vote(vote)
        done["closed"] += 1
    return done


def receipt_counted(vote: Vote, receipt: str) -> bool:
    """Whether a ballot with this receipt is in the count (after the close)."""
    if vote.state != State.CLOSED or not receipt.strip():
        return False
    return Ballot.objects.filter(vote=vote, receipt_digest=receipt_digest(vote, receipt)).exists()


def helios_roll(vote: Vote) -> list[list[str]]:
    """The frozen roll as Helios' voter file: `password,<voter id>,<email>,<name>` rows.

    Helios mails each voter their own password; the ids are the roll's, not the accounts'."""
    rows = []
    for voter in Voter.objects.filter(vote=vote, user__isnull=False).select_related("user"):
        user = voter.user
        rows.append(["password", f"{vote.code}-{voter.pk}", user.email, user.display_name])  # type: ignore[union-attr]
    return rows
