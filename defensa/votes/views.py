"""Vote pages: coordinators' votes (turnout and codes sent while open, the result after the
close, the Helios roll export) and each vote's page for voters (the question, the roll's size,
the ballot form that takes a one-time code, the result after the close, receipt checks)."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from defensa.accounts.models import User
from defensa.audit.reveals import RevealQuota, record_reveal
from defensa.committees import own_words
from defensa.committees.access import coordinated_committees_for, get_coordinated_committee_for
from defensa.core import languages
from defensa.core.access import public
from defensa.reports.flood import FloodGate
from defensa.votes import access, actions
from defensa.votes.forms import BallotForm, ReceiptForm, VoteForm
from defensa.votes.models import Kind, State, Vote, Voter

# Ballots and receipt checks from one source: plenty for a household sharing a connection,
# not for a script guessing codes (50 bits each; this only keeps the noise down).
ballot_gate = FloodGate(limit=20, window_s=10 * 60)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _result(vote: Vote) -> dict[str, object]:
    """The result as people read it: each option with its count and share, largest first."""
    if vote.state != State.CLOSED:
        return {}
    counts = vote.result.get("options", {})
    cast = vote.result.get("cast", 0)
    rows = [
        {
            "option": option,
            "n": counts.get(str(option.position), 0),
            "pct": round(100 * counts.get(str(option.position), 0) / cast) if cast else 0,
            "won": vote.result.get("winner") == option.position,
        }
        for option in vote.options.all()
    ]
    return {"rows": rows, **vote.result}


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    """The votes of the committees the user coordinates (404 for anyone else)."""
    committees = list(coordinated_committees_for(request.user))
    if not committees:
        raise Http404
    return render(
        request,
        "votes/index.html",
        {"committees": committees, "votes": list(access.votes_for(request.user))},
    )


@never_cache
def new(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_coordinated_committee_for(request.user, slug)
    form = VoteForm(request.POST or None, committee=committee)
    if request.method == "POST" and form.is_valid():
        try:
            vote = actions.create_vote(committee, form.vote_data(), actor=_user(request))
        except actions.VoteError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The vote is set up. Each voter gets their own code."))
            return redirect("votes:detail", pk=vote.pk)
    return render(request, "votes/new.html", {"committee": committee, "form": form})


@never_cache
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A coordinator's view: the roll's size, turnout, codes still going out; never who."""
    vote = access.get_vote_for(request.user, pk)
    voted = Voter.objects.filter(vote=vote, voted=True).count()
    return render(
        request,
        "votes/detail.html",
        {
            "vote": vote,
            "State": State,
            "voted": voted,
            "sending": actions.codes_still_queued(vote) if vote.state == State.OPEN else 0,
            # Scheduled to open now: the background worker is freezing the roll.
            "opening": vote.state == State.OPENING
            or (vote.state == State.SCHEDULED and vote.opens_at <= timezone.now()),
            "result": _result(vote),
            "sms_number": settings.TWILIO_FROM_NUMBER,
            "other_languages": _other_languages(vote),
        },
    )


def _other_languages(vote: Vote) -> list[tuple[object, list[dict[str, object]]]]:
    """The question and options the coordinators gave in other languages, for their page."""
    options = list(vote.options.all())
    lists = {
        code: [o.label(code) for o in options]
        for code in languages.OTHER_CODES
        if vote.kind == Kind.OPTIONS and any(code in o.translations for o in options)
    }
    return own_words.shown(vote.translations, ("question",), lists)


@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    vote = access.get_vote_for(request.user, pk)
    try:
        actions.close_vote(vote, actor=_user(request))
    except actions.VoteError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The vote is closed and counted."))
    return redirect("votes:detail", pk=vote.pk)


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    vote = access.get_vote_for(request.user, pk)
    try:
        actions.cancel_vote(vote, actor=_user(request))
    except actions.VoteError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The vote is cancelled; its ballots are deleted."))
    return redirect("votes:detail", pk=vote.pk)


@never_cache
def helios_roll(request: HttpRequest, pk: int) -> HttpResponse:
    """The frozen roll in Helios' voter-file format; every download is an audited reveal."""
    vote = access.get_vote_for(request.user, pk)
    if vote.state in (State.SCHEDULED, State.OPENING):
        raise Http404
    rows = actions.helios_roll(vote)
    try:
        record_reveal("votes.roll", actor=request.user, obj=vote, voters=len(rows))
    except RevealQuota:
        messages.error(
            request, _("You have revealed too many contacts in the last hour. Try again later.")
        )
        return redirect("votes:detail", pk=vote.pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="roll-{vote.code}.csv"'
    writer = csv.writer(response)
    for row in rows:
        writer.writerow(row)
    return response


def _ballot_context(vote: Vote, form: BallotForm, receipt_form: ReceiptForm) -> dict[str, object]:
    return {
        "vote": vote,
        "State": State,
        "form": form,
        "receipt_form": receipt_form,
        "result": _result(vote),
        "sms_number": settings.TWILIO_FROM_NUMBER,
        "options": list(vote.options.all()),
    }


@public
@never_cache
def ballot(request: HttpRequest, code: str) -> HttpResponse:
    """The vote's page for anyone with its link: vote with a one-time code; after the close,
    the result and a receipt check."""
    vote = access.get_public_vote(code)
    choices = [(o.position, o.label()) for o in vote.options.all()]
    posted = request.POST if request.method == "POST" else None
    checking = posted is not None and "receipt" in posted
    form = BallotForm(None if checking else posted, options=choices)
    receipt_form = ReceiptForm(posted if checking else None)
    status = 200
    if posted is not None and not ballot_gate.allow(getattr(request, "source_tag", "")):
        messages.error(request, _("Too many tries from here just now. Try again in a few minutes."))
        return render(
            request, "votes/ballot.html", _ballot_context(vote, form, receipt_form), status=429
        )
    if checking and receipt_form.is_valid():
        if actions.receipt_counted(vote, receipt_form.cleaned_data["receipt"]):
            messages.success(request, _("Your ballot was counted."))
        else:
            messages.error(
                request,
                _("No counted ballot has that receipt (or the vote is not closed yet)."),
            )
        return redirect("votes:ballot", code=vote.code)
    if posted is not None and not checking and form.is_valid():
        try:
            cast = actions.cast_ballot(
                form.cleaned_data["code"], form.cleaned_data["choice"], origin="web", vote=vote
            )
        except actions.VoteError as error:
            form.add_error("code" if error.code in ("code", "used") else None, error.message)
            status = 400
        else:
            return render(request, "votes/cast.html", {"vote": vote, "receipt": cast.receipt})
    elif posted is not None and not checking:
        status = 400
    return render(
        request, "votes/ballot.html", _ballot_context(vote, form, receipt_form), status=status
    )
