"""The public alert sign-up (no account; works without JavaScript) and coordinators' counts."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from defensa.committees.access import get_coordinated_committee_for
from defensa.core import languages
from defensa.core.access import public
from defensa.reports.flood import FloodGate
from defensa.subscribers import access, actions
from defensa.subscribers.forms import CodeForm, SubscribeForm
from defensa.subscribers.models import PENDING_RETENTION, Subscription

TICKET_SALT = "defensa.subscribers.ticket"
# Per source (request.source_tag, never an address), in this process's memory only: as the
# report form's flood gate (defensa/reports/flood.py).
gate = FloodGate(limit=10, window_s=600)


def _slow_down(request: HttpRequest, template: str, form: object) -> HttpResponse:
    form.add_error(None, _("Too many tries from here just now. Try again in a few minutes."))  # type: ignore[attr-defined]
    return render(request, template, {"form": form}, status=429)


@public
@never_cache
def subscribe(request: HttpRequest) -> HttpResponse:
    """Phone, ZIP code, language; on success the page asking for the texted code."""
    # The page's language (one of core/languages.py, as LocaleMiddleware chose it).
    language = languages.get(getattr(request, "LANGUAGE_CODE", "")).code
    if request.method != "POST":
        form = SubscribeForm(initial={"language": language})
        return render(request, "subscribers/subscribe.html", {"form": form})
    form = SubscribeForm(request.POST)
    if not gate.allow(getattr(request, "source_tag", "")):
        return _slow_down(request, "subscribers/subscribe.html", form)
    if not form.is_valid():
        return render(request, "subscribers/subscribe.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        outcome = actions.start_web_subscription(
            data["phone"], data["zip_code"], language=data["language"]
        )
    except actions.SubscribeError as error:
        form.add_error("zip_code" if error.code in ("zip", "outside") else None, error.message)
        return render(request, "subscribers/subscribe.html", {"form": form}, status=400)
    # The same page whatever the number's standing: a stranger must not learn whether a
    # number is subscribed.
    ticket = signing.dumps(outcome.subscription.pk, salt=TICKET_SALT)  # type: ignore[union-attr]
    code_form = CodeForm(initial={"ticket": ticket})
    return render(request, "subscribers/code.html", {"form": code_form})


def _subscription_of(ticket: str) -> Subscription | None:
    try:
        pk = signing.loads(ticket, salt=TICKET_SALT, max_age=PENDING_RETENTION.total_seconds())
    except signing.BadSignature:
        return None
    return Subscription.objects.filter(pk=pk).first() if isinstance(pk, int) else None


@public
@never_cache
def confirm(request: HttpRequest) -> HttpResponse:
    """Check the texted code; a wrong one may be tried again, a few times."""
    if request.method != "POST":
        return redirect("subscribers:subscribe")
    form = CodeForm(request.POST)
    if not gate.allow(getattr(request, "source_tag", "")):
        return _slow_down(request, "subscribers/code.html", form)
    if not form.is_valid():
        return render(request, "subscribers/code.html", {"form": form}, status=400)
    subscription = _subscription_of(form.cleaned_data["ticket"])
    if subscription is None:
        form.add_error(None, _("This code has expired. Start again to get a new one."))
        return render(request, "subscribers/code.html", {"form": form}, status=400)
    try:
        outcome = actions.confirm_web_subscription(subscription, form.cleaned_data["code"])
    except actions.SubscribeError as error:
        form.add_error(None, error.message)
        return render(request, "subscribers/code.html", {"form": form}, status=400)
    if outcome.word == "wrong":
        form.add_error("code", _("That is not the code we texted. Check it and try again."))
        return render(request, "subscribers/code.html", {"form": form}, status=400)
    return render(request, "subscribers/done.html", {"zip": outcome.subscription.zip_code})  # type: ignore[union-attr]


@never_cache
def counts(request: HttpRequest, slug: str) -> HttpResponse:
    """A coordinator's view: confirmed subscriptions per ZIP code of the committee's area."""
    committee = get_coordinated_committee_for(request.user, slug)
    rows = access.counts_for(request.user, committee)
    return render(
        request,
        "subscribers/counts.html",
        {"committee": committee, "rows": rows, "total": sum(n for _z, n in rows)},
    )
