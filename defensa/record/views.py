"""The printable incident report, its evidence files, and the public page of verified incidents."""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from defensa.audit.checkpoints import verify as verify_audit
from defensa.committees.access import get_committee_for
from defensa.core import media
from defensa.core.access import public
from defensa.dispatch import feedback
from defensa.evidence.models import PublicPage
from defensa.incidents.access import (
    EVIDENCE_ROLES,
    get_archive_committee_for,
    get_incident_for,
)
from defensa.incidents.areas import where_label
from defensa.incidents.models import Incident
from defensa.incidents.timeline import verify_timeline
from defensa.record import charts
from defensa.record.access import get_figures_scope_for
from defensa.record.actions import (
    export_archive,
    export_figures,
    open_incident_record,
    set_public_page,
)
from defensa.record.archive import (
    PAGE_SIZE,
    ArchiveFilter,
    archive_incidents,
    csv_rows,
    state_label,
    zip_areas,
)
from defensa.record.auditlog import AuditFilter, audit_entries_for
from defensa.record.figures import Figures, FiguresFilter, compute, csv_table
from defensa.record.forms import PublicPageForm
from defensa.record.listing import evidence_for, find_item
from defensa.record.public import verified_incidents


@never_cache
def incident_record(request: HttpRequest, ref: str) -> HttpResponse:
    """Everything an attorney needs on paper: timeline, reports, evidence with both digests,
    and whether the audit chain still vouches for all of it. Dispatchers, coordinators and
    the legal team of the incident's committee only (404 for everyone else)."""
    incident = get_incident_for(request.user, ref, EVIDENCE_ROLES)
    # Sealed before the chain is checked, so the page's own opening is part of what it vouches.
    open_incident_record(incident, actor=request.user)
    committee = incident.committee
    items = evidence_for(incident)
    timeline_problems = verify_timeline(incident)
    # The chain against its key and every signed checkpoint; the latest is printed, so the
    # paper itself is a copy of the anchor kept outside the server.
    verdict = verify_audit()
    checked, bad, why = verdict.chain.checked, verdict.chain.bad, verdict.chain.why
    evidence_problems = [i for i in items if i.file_state != "intact" or not i.sealed]
    reports = incident.reports.order_by("observed_at", "id").prefetch_related("photos", "media")  # type: ignore[attr-defined]
    timeline = timeline_rows(incident)
    return render(
        request,
        "record/record.html",
        {
            "incident": incident,
            "committee": committee,
            "tz": committee.tz,  # type: ignore[union-attr]
            "where": where_label(incident),
            "reports": reports,
            "timeline": timeline,
            "items": items,
            "timeline_problems": timeline_problems,
            "chain_checked": checked,
            "chain_bad": bad,
            "chain_why": why,
            "evidence_problems": evidence_problems,
            "checkpoint_problems": verdict.problems,
            "checkpoint": verdict.latest,
            "chain_head": verdict.chain,
            "intact": not timeline_problems and verdict.intact and not evidence_problems,
            "generated_at": timezone.now(),
        },
    )


def timeline_rows(incident: Incident) -> list[dict]:
    """Who, what, when for each step, in words (the timeline keeps ids and state names): the
    same words as the dispatch console's timeline, with what each action did."""
    references = dict(incident.reports.values_list("pk", "reference"))  # type: ignore[attr-defined]
    rows = []
    for row in feedback.timeline(incident.timeline.select_related("actor"), references):  # type: ignore[attr-defined]
        what = " · ".join([row["what"], *(said.text for said in row["said"])])
        rows.append({"entry": row["entry"], "what": what})
    return rows


@never_cache
def evidence_file(request: HttpRequest, ref: str, key: str) -> FileResponse:
    """One stored photo or video of the incident, for the same roles as the record."""
    incident = get_incident_for(request.user, ref, EVIDENCE_ROLES)
    item = find_item(incident, key)
    if item is None:
        raise Http404
    try:
        stored = media.open(item.file)
    except media.StoreUnavailable:
        return HttpResponse(
            _("The file store cannot be reached just now. Try again in a minute."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    if stored is None:
        raise Http404
    open_incident_record(incident, actor=request.user, file_key=item.key)
    response = FileResponse(stored, content_type=item.content_type)
    extension = PurePosixPath(item.file).suffix
    response["Content-Disposition"] = (
        f'inline; filename="{incident.reference}-{item.key}-{item.sha256[:12]}{extension}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@public
def verified(request: HttpRequest) -> HttpResponse:
    """Verified incidents, coarse and approximate, for committees that turned the page on."""
    return render(request, "record/verified.html", {"incidents": verified_incidents()})


@never_cache
def public_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A coordinator turns the committee's part of the public verified page on or off."""
    committee = get_committee_for(request.user, slug, "coordinator")
    current = PublicPage.objects.filter(committee=committee).first()
    form = PublicPageForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        show = form.cleaned_data["show"] == "on"
        set_public_page(committee, show, actor=request.user)
        if show:
            messages.success(
                request, _("The public page now lists this committee's verified incidents.")
            )
        else:
            messages.success(
                request, _("The public page no longer lists this committee's incidents.")
            )
        return redirect("record:public_page", slug=committee.slug)
    return render(
        request,
        "record/public_page.html",
        {
            "committee": committee,
            "page": current,
            "on": bool(current and current.show_verified),
            "form": form,
            "preview": verified_incidents(preview_for=committee)[:10],
            "days": settings.PUBLIC_VERIFIED_DAYS,
        },
        status=400 if form.errors else 200,
    )


@require_GET
@never_cache
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    """Every incident of the committee and those under it, filtered, 50 a page. Dispatchers,
    coordinators and the legal team of the committee only (404 for everyone else)."""
    committee = get_archive_committee_for(request.user, slug)
    # Always bound: no filter at all is a valid filter (everything, newest first).
    form = ArchiveFilter(request.GET, committee=committee)
    page = None
    areas: dict[int, list[str]] = {}
    if form.is_valid():
        found = archive_incidents(committee, form)
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        areas = zip_areas(page.object_list)
    rows = (
        []
        if page is None
        else [
            {"incident": i, "state": state_label(i), "areas": areas.get(i.pk, [])}
            for i in page.object_list
        ]
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "record/archive.html",
        {
            "committee": committee,
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "tz": committee.tz,
        },
        status=200 if page is not None else 400,
    )


@require_GET
@never_cache
def archive_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The filtered archive as CSV (no reporter text or contact); each export is audited
    with its filter."""
    committee = get_archive_committee_for(request.user, slug)
    form = ArchiveFilter(request.GET, committee=committee)
    if not form.is_valid():
        return render(
            request,
            "record/archive.html",
            {"committee": committee, "form": form, "page": None, "rows": [], "query": ""},
            status=400,
        )
    found = archive_incidents(committee, form)
    export_archive(committee, actor=request.user, filters=form.audit_fields())
    response = StreamingHttpResponse(csv_rows(found), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(committee.tz).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="incidents-{committee.slug}-{stamp}.csv"'
    )
    return response


AUDIT_COLUMNS = (
    "seq",
    "created_at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "committee_id",
)


@require_GET
@never_cache
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit chain as stored, ids and action names only. Network administrators only."""
    entries = audit_entries_for(request.user)
    form = AuditFilter(request.GET)
    page = None
    if form.is_valid():
        entries = form.apply(entries)
        page = Paginator(entries.only(*AUDIT_COLUMNS), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "record/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=200 if page is not None else 400,
    )


# Figures ------------------------------------------------------------------------------


@require_GET
@never_cache
def figures(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Figures over time, as charts each beside its table. A committee's dispatchers and
    coordinators (its subtree); network administrators without a slug (the network)."""
    scope = get_figures_scope_for(request.user, slug)
    form = FiguresFilter(request.GET, scope=scope)
    context: dict[str, Any] = {"scope": scope, "form": form, "query": request.GET.urlencode()}
    if not form.is_valid():
        return render(request, "record/figures.html", context, status=400)
    data = compute(form)
    context["figures"] = data
    context["charts"] = figure_charts(data)
    return render(request, "record/figures.html", context)


@require_GET
@never_cache
def figures_csv(request: HttpRequest, table: str, slug: str | None = None) -> HttpResponse:
    """One table of the figures as CSV (counts and minutes only); each download audited."""
    scope = get_figures_scope_for(request.user, slug)
    form = FiguresFilter(request.GET, scope=scope)
    if not form.is_valid():
        context = {"scope": scope, "form": form, "query": ""}
        return render(request, "record/figures.html", context, status=400)
    data = compute(form)
    export_figures(scope.committee, table, actor=request.user, filters=form.audit_fields())
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_table(data, table))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = scope.committee.slug if scope.committee else "network"
    response["Content-Disposition"] = (
        f'attachment; filename="figures-{table}-{name}-{data.since:%Y%m%d}-{data.until:%Y%m%d}.csv"'
    )
    return response


def figure_charts(data: Figures) -> dict[str, Any]:
    """The page's charts, from the same numbers as its tables."""
    return {
        "volume": charts.lines(
            [
                (_("Reports"), [d.reports for d in data.days]),
                (_("Incidents"), [d.incidents for d in data.days]),
            ]
        ),
        "verdicts": charts.parts(
            [_("Verified"), _("False alarm"), _("Unconfirmed")],
            [(d.verified, d.false_alarms, d.unconfirmed) for d in data.days],
        ),
        "times": charts.lines(
            [
                (_("To acceptance, median"), [w.accept_p50 for w in data.weeks]),
                (_("To acceptance, 90th percentile"), [w.accept_p90 for w in data.weeks]),
                (_("To verdict, median"), [w.verdict_p50 for w in data.weeks]),
                (_("To verdict, 90th percentile"), [w.verdict_p90 for w in data.weeks]),
            ]
        ),
        "alerts": charts.lines(
            [(label, [a.per_channel[code] for a in data.alerts]) for code, label in data.channels]
        ),
    }
