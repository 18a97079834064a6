"""Pledge pages: coordinators' campaigns (counts only until the threshold), the public page
of each campaign (pledge with a phone number, or as a signed-in member) and, after the
threshold, the audited list of who pledged."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from defensa.accounts.models import User
from defensa.audit.reveals import RevealQuota, record_reveal
from defensa.committees import own_words
from defensa.committees.access import coordinated_committees_for, get_coordinated_committee_for
from defensa.core import languages
from defensa.core.access import public, signed_in
from defensa.pledges import access, actions, chart
from defensa.pledges.forms import CampaignForm, PhonePledgeForm
from defensa.pledges.models import Campaign, Origin, State
from defensa.reports.flood import FloodGate

# Web pledges from one source (the day-keyed, in-memory source tag reports' flood control
# uses; nothing stored): enough for a household sharing a connection, not for a script typing
# random numbers. Numbers typed here stay unconfirmed until a text confirms them anyway.
pledge_gate = FloodGate(limit=5, window_s=10 * 60)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _numbers(campaign: Campaign) -> dict[str, object]:
    tally = actions.counts(campaign)
    trend = actions.trend(campaign)
    return {
        "tally": tally,
        "units": actions.unit_counts(campaign),
        "chart": chart.draw(trend, campaign.needed),
        "remaining": max(campaign.needed - tally.get("counted", 0), 0),
    }


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    """The campaigns of the committees the user coordinates (404 for anyone else)."""
    committees = list(coordinated_committees_for(request.user))
    if not committees:
        raise Http404
    campaigns = list(access.campaigns_for(request.user))
    return render(request, "pledges/index.html", {"committees": committees, "campaigns": campaigns})


@never_cache
def new(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_coordinated_committee_for(request.user, slug)
    form = CampaignForm(request.POST or None, committee=committee)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = actions.open_campaign(committee, form.campaign_data(), actor=_user(request))
        except actions.PledgeError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The campaign is open. Share its link or its text code."))
            return redirect("pledges:campaign", pk=campaign.pk)
    return render(request, "pledges/new.html", {"committee": committee, "form": form})


@never_cache
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    """A coordinator's view: counts, kinds of pledges and the trend; never who."""
    found = access.get_campaign_for(request.user, pk)
    return render(
        request,
        "pledges/campaign.html",
        {
            "campaign": found,
            "State": State,
            "other_languages": own_words.shown(found.translations, ("title", "text")),
            "sms_number": settings.TWILIO_FROM_NUMBER,
            "link": settings.SITE_URL.rstrip("/")
            + reverse("pledges:public", kwargs={"code": found.code}),
            **_numbers(found),
        },
    )


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_campaign_for(request.user, pk)
    try:
        actions.cancel_campaign(found, actor=_user(request))
    except actions.PledgeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The campaign is cancelled. Who pledged is erased for good."))
    return redirect("pledges:campaign", pk=found.pk)


@never_cache
def pledgers(request: HttpRequest, pk: int) -> HttpResponse:
    """Who pledged: only after the threshold, and every view is an audited reveal."""
    found = access.get_campaign_for(request.user, pk)
    if found.state != State.REACHED or found.shredded_at is not None:
        raise Http404
    people = actions.pledgers(found)
    try:
        record_reveal("pledges.pledgers", actor=request.user, obj=found, pledgers=len(people))
    except RevealQuota:
        messages.error(
            request, _("You have revealed too many contacts in the last hour. Try again later.")
        )
        return redirect("pledges:campaign", pk=found.pk)
    return render(request, "pledges/pledgers.html", {"campaign": found, "people": people})


def _public_context(
    request: HttpRequest, found: Campaign, form: PhonePledgeForm
) -> dict[str, object]:
    user = request.user if request.user.is_authenticated else None
    member = bool(user) and actions.is_in_scope(found, user)  # type: ignore[arg-type]
    return {
        "campaign": found,
        "form": form,
        "State": State,
        "can_pledge": found.accepts_pledges,
        "can_withdraw": found.state == State.OPEN,
        "member": member,
        "pledged": member and actions.has_pledged(found, user),  # type: ignore[arg-type]
        "sms_number": settings.TWILIO_FROM_NUMBER,
        **_numbers(found),
    }


@public
@never_cache
def public_page(request: HttpRequest, code: str) -> HttpResponse:
    """The campaign's page for anyone: the pledge, the counts and a form to pledge."""
    found = access.get_public_campaign(code)
    form = PhonePledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not pledge_gate.allow(getattr(request, "source_tag", "")):
            form.add_error(
                None, _("Too many pledges from here just now. Try again in a few minutes.")
            )
            context = _public_context(request, found, form)
            return render(request, "pledges/public.html", context, status=429)
        language = languages.get(request.LANGUAGE_CODE).code
        try:
            outcome = actions.pledge_by_phone(
                found, form.cleaned_data["phone"], origin=Origin.WEB, language=language
            )
        except actions.PledgeError as error:
            form.add_error("phone" if error.code == "phone" else None, error.message)
        else:
            # The same words whatever happened (new, repeated, a member's number): the page
            # must not tell a stranger whether a number had pledged or belongs to a member.
            del outcome
            messages.success(
                request,
                _(
                    "Thank you. This number's pledge is recorded, once: pledging again from it "
                    "changes nothing. Nobody sees who pledged unless the threshold is reached."
                ),
            )
            return redirect("pledges:public", code=found.code)
    return render(request, "pledges/public.html", _public_context(request, found, form))


@signed_in
@require_POST
def member_pledge(request: HttpRequest, code: str) -> HttpResponse:
    found = access.get_public_campaign(code)
    try:
        actions.pledge_as_member(found, _user(request))
    except actions.PledgeError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Your pledge counts. Nobody sees who pledged unless the threshold is reached."),
        )
    return redirect("pledges:public", code=found.code)


@signed_in
@require_POST
def member_withdraw(request: HttpRequest, code: str) -> HttpResponse:
    found = access.get_public_campaign(code)
    try:
        actions.withdraw_as_member(found, _user(request))
    except actions.PledgeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your pledge is withdrawn."))
    return redirect("pledges:public", code=found.code)
