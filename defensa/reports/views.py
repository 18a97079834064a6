"""The public report form. No account; works with JavaScript off; a retry never duplicates."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache

from defensa.core.access import public
from defensa.reports.actions import InvalidReport, receive_report
from defensa.reports.flood import gate
from defensa.reports.forms import ReportForm, new_token


@public
@never_cache
def new_report(request: HttpRequest) -> HttpResponse:
    """Show the form; on POST store the report and answer with the receipt.

    The receipt is the POST's own response, not a redirect: reloading it re-sends the same
    hidden token, which returns the same report. One URL, nothing to guess.
    """
    if request.method != "POST":
        form = ReportForm(initial={"token": new_token()})
        return render(request, "reports/new.html", {"form": form})

    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "reports/new.html", {"form": form}, status=400)
    tag = getattr(request, "source_tag", "")
    if not gate.allow(tag):
        response = render(request, "reports/slow_down.html", status=429)
        response["Retry-After"] = str(gate.retry_after(tag))
        return response
    try:
        report = receive_report(
            form.report_data(translation.get_language() or settings.LANGUAGE_CODE),
            channel="web",
            idempotency_key=f"web:{form.cleaned_data['token']}",
            photos=form.clean_photos_list,
        )
    except InvalidReport:
        # The form checks everything receive_report does; this is a safety net, not a path.
        form.add_error(None, _try_again())
        return render(request, "reports/new.html", {"form": form}, status=400)
    return render(
        request,
        "reports/receipt.html",
        {"report": report, "photos": report.photos.count()},  # type: ignore[attr-defined]
    )


def _try_again() -> str:
    from django.utils.translation import gettext

    return gettext("Something in the form could not be read. Please check it and send again.")
