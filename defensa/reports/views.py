"""The public report form. No account; works with JavaScript off; a retry never duplicates."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from defensa.committees.access import memberships_for
from defensa.core.access import public
from defensa.core.maps import map_context, shows_map
from defensa.reports import actions
from defensa.reports.access import (
    OPERATOR_ROLES,
    get_report_with_contact_for,
    incidents_from_calls_for,
)
from defensa.reports.actions import InvalidReport, receive_report
from defensa.reports.flood import BURST_FROM, gate
from defensa.reports.forms import OperatorForm, ReportForm, new_token


@public
@never_cache
@shows_map
def new_report(request: HttpRequest) -> HttpResponse:
    """Show the form; on POST store the report and answer with the receipt.

    The receipt is the POST's own response, not a redirect: reloading it re-sends the same
    hidden token, which returns the same report. One URL, nothing to guess.
    """
    if request.method != "POST":
        form = ReportForm(initial={"token": new_token()})
        return render(request, "reports/new.html", {"form": form, **map_context()})

    # The flood gate comes before the form: cleaning it decodes photos and runs ffmpeg on a
    # video, the costly part of a request. Every post counts, a refused form too (a flood of
    # malformed uploads costs decoding all the same). CSRF has already spooled the multipart
    # body to memory or temporary files, which costs I/O only.
    tag = getattr(request, "source_tag", "")
    if not gate.allow(tag):
        response = render(request, "reports/slow_down.html", status=429)
        response["Retry-After"] = str(gate.retry_after(tag))
        return response
    form = ReportForm(request.POST, request.FILES)
    try:
        return _receive(request, form, burst=gate.recent(tag) >= BURST_FROM)
    finally:
        form.discard_media()


def _refused(request: HttpRequest, form: ReportForm) -> HttpResponse:
    """The form again, with its errors. A browser cannot be given files back: when the post
    carried photos or a video, the page says plainly that they must be attached again."""
    context = {
        "form": form,
        "files_dropped": bool(request.FILES),
        "more_open": form.more_open() or bool(request.FILES),
        **map_context(),
    }
    return render(request, "reports/new.html", context, status=400)


def _receive(request: HttpRequest, form: ReportForm, *, burst: bool) -> HttpResponse:
    if not form.is_valid():
        return _refused(request, form)
    try:
        received = receive_report(
            form.report_data(translation.get_language() or settings.LANGUAGE_CODE),
            channel="web",
            idempotency_key=f"web:{form.cleaned_data['token']}",
            photos=form.clean_photos_list,
            videos=form.clean_videos_list,
            burst=burst,
        )
    except InvalidReport:
        # The form checks everything receive_report does; this is a safety net, not a path.
        form.add_error(None, _try_again())
        return _refused(request, form)
    # On a retry the receipt tells what the first submission stored.
    context = {
        "report": received.report,
        "photos": received.photos,
        "videos": received.videos,
        "files_lost": received.files_lost,
    }
    return render(request, "reports/receipt.html", context)


@never_cache
def operator_new(request: HttpRequest) -> HttpResponse:
    """The hotline operator's form: save, show the codes, and an empty form for the next call.

    Dispatchers and intake operators of any committee only (404 for everyone else, like every
    role-checked page): the report is grouped by where it happened, not by who typed it.
    """
    if not memberships_for(request.user, OPERATOR_ROLES).exists():
        raise Http404
    fresh = OperatorForm(
        initial={"token": new_token(), "language": translation.get_language() or "en"}
    )
    if request.method != "POST":
        return render(request, "reports/operator.html", {"form": fresh})
    form = OperatorForm(request.POST)
    if not form.is_valid():
        return render(request, "reports/operator.html", {"form": form}, status=400)
    try:
        report = receive_report(
            form.report_data(form.cleaned_data["language"]),
            channel="operator",
            actor=request.user,
            # The hidden token: a double submit or a reload is the same report, never two.
            idempotency_key=f"operator:{form.cleaned_data['token']}",
        ).report
    except InvalidReport:
        form.add_error(None, _try_again())
        return render(request, "reports/operator.html", {"form": form}, status=400)
    return render(request, "reports/operator.html", {"form": fresh, "saved": report})


@require_GET
@never_cache
def operator_incidents(request: HttpRequest) -> HttpResponse:
    """The incidents the operator's own typed reports went into: reference, state, time.

    No reporter contact and no verification controls: an intake operator has no alert power.
    Dispatchers and intake operators only (404 for everyone else).
    """
    incidents = incidents_from_calls_for(request.user)
    return render(request, "reports/operator_incidents.html", {"incidents": incidents})


@require_POST
@never_cache
def reveal_contact(request: HttpRequest, ref: str) -> HttpResponse:
    """Show a reporter's contact to a dispatcher or coordinator of its committee, audited."""
    report = get_report_with_contact_for(request.user, ref)
    try:
        contact = actions.reveal_contact(report, actor=request.user)
    except actions.RevealQuota:
        return render(
            request, "reports/contact.html", {"report": report, "refused": True}, status=429
        )
    return render(request, "reports/contact.html", {"report": report, "contact": contact})


def _try_again() -> str:
    from django.utils.translation import gettext

    return gettext("Something in the form could not be read. Please check it and send again.")
