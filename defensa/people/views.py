"""People pages of a committee, for its coordinators: import a spreadsheet, invite in bulk,
export members. Views parse, check access through people.access, call one action, render."""

from __future__ import annotations

import contextlib
import csv
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from defensa.accounts.models import User
from defensa.committees.access import get_committee_for, members_for
from defensa.committees.actions import SMS_INVITATION
from defensa.committees.models import Committee
from defensa.core import crypto
from defensa.core.transitions import IllegalTransition
from defensa.imports import actions as imports
from defensa.imports import engine, reading, store, uploads
from defensa.imports.models import JobStatus
from defensa.notify.models import Delivery
from defensa.people import access, actions
from defensa.people.forms import COLUMN_LABELS, ExportForm, InviteForm
from defensa.people.messages import INVITATION
from defensa.people.models import ExportStatus, Invitee
from defensa.people.rows import COLUMNS, KIND

SHOWN_INVITEES = 200


def _coordinator(request: HttpRequest, slug: str) -> Committee:
    return get_committee_for(request.user, slug, "coordinator")


def _home_context(request: HttpRequest, committee: Committee) -> dict[str, Any]:
    invitees = access.invitees_for(request.user, committee)
    return {
        "committee": committee,
        "jobs": [
            (job, reverse("people:import", args=[committee.slug, job.pk]))
            for job in access.import_jobs_for(request.user, committee)[:10]
        ],
        "upload_url": reverse("people:upload", args=[committee.slug]),
        "counts": invitees.aggregate(
            total=Count("pk"),
            joined=Count("pk", filter=Q(invitation__used_at__isnull=False)),
            invited=Count("pk", filter=Q(invited_at__isnull=False)),
        ),
        "max_mb": imports.MAX_BYTES // (1024 * 1024),
    }


@require_GET
def home(request: HttpRequest, slug: str) -> HttpResponse:
    committee = _coordinator(request, slug)
    return render(request, "people/home.html", _home_context(request, committee))


def _too_big(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context["error"] = _(
        "The file is larger than %(mb)s MB. Split it into smaller files and import each."
    ) % {"mb": context["max_mb"]}
    return render(request, "people/home.html", context, status=413)


# CSRF is checked below, after the size: the middleware would read the whole body first.
@csrf_exempt
@require_POST
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    committee = _coordinator(request, slug)
    context = _home_context(request, committee)
    try:
        upload_file, refused = uploads.receive(request)
    except uploads.TooBig:
        return _too_big(request, context)
    if refused is not None:
        return refused
    if upload_file is None:
        context["error"] = _("Choose a CSV file to import.")
        return render(request, "people/home.html", context, status=400)
    try:
        job = imports.upload_import(
            KIND, committee.pk, upload_file.chunks(), actor=request.user, committee=committee
        )
    except reading.Unreadable as why:
        context["error"] = str(why)
        return render(request, "people/home.html", context, status=400)
    return redirect("people:import", slug=slug, pk=job.pk)


def _mapping_from(request: HttpRequest, width: int) -> list[str]:
    return [request.POST.get(f"col-{i}", "")[:20] for i in range(width)]


def import_job(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = _coordinator(request, slug)
    job = access.get_import_job_for(request.user, committee, pk)
    context: dict[str, Any] = {
        "committee": committee,
        "job": job,
        "columns": COLUMNS,
        "discard_url": reverse("people:discard", args=[slug, job.pk]),
        "errors_url": reverse("people:errors", args=[slug, job.pk]),
    }
    status = 200
    if request.method == "POST":
        if job.status != JobStatus.UPLOADED:
            return redirect("people:import", slug=slug, pk=job.pk)
        mapping = _mapping_from(request, len(job.header))
        problem = engine.mapping_problem(engine.kind_named(KIND), job.header, mapping)
        if problem:
            job.mapping = mapping
            context["error"], status = problem, 400
        else:
            imports.map_columns(job, mapping, actor=request.user, committee=committee)
            if "confirm" in request.POST:
                try:
                    total = engine.count_rows(job)
                except (reading.Unreadable, store.Damaged, crypto.CryptoError) as why:
                    context["error"], status = str(why) or _("The file could not be read."), 400
                else:
                    with contextlib.suppress(IllegalTransition):
                        imports.confirm_import(
                            job, rows=total, actor=request.user, committee=committee
                        )
                    return redirect("people:import", slug=slug, pk=job.pk)
            else:
                return redirect("people:import", slug=slug, pk=job.pk)
    if job.status == JobStatus.UPLOADED:
        try:
            context["preview"] = engine.preview(job)
        except (reading.Unreadable, store.Damaged, crypto.CryptoError) as why:
            context["error"], status = str(why) or _("The file could not be read."), 400
        context["choices"] = [
            (i, title, job.mapping[i] if i < len(job.mapping) else "")
            for i, title in enumerate(job.header)
        ]
    context["seconds_left"] = job.seconds_left()
    context["refresh"] = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    return render(request, "people/import.html", context, status=status)


@require_GET
def error_report(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = _coordinator(request, slug)
    job = access.get_import_job_for(request.user, committee, pk)
    if not job.has_error_report or not store.exists(job, store.ERRORS):
        messages.info(request, _("There is no error report for this import."))
        return redirect("people:import", slug=slug, pk=job.pk)
    imports.open_error_report(job, actor=request.user, committee=committee)
    response = StreamingHttpResponse(
        store.read_safely(job, store.ERRORS), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@require_POST
def discard(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = _coordinator(request, slug)
    job = access.get_import_job_for(request.user, committee, pk)
    try:
        imports.discard_import(job, actor=request.user, committee=committee)
    except IllegalTransition:
        messages.error(request, _("The import is running; wait until it ends."))
        return redirect("people:import", slug=slug, pk=job.pk)
    messages.success(request, _("The file and its error report are deleted."))
    return redirect("people:home", slug=slug)


# Invitations in bulk ------------------------------------------------------------------


def invite(request: HttpRequest, slug: str) -> HttpResponse:
    committee = _coordinator(request, slug)
    invitees = access.invitees_for(request.user, committee)
    job = None
    if request.GET.get("import"):
        job = access.get_import_job_for(request.user, committee, request.GET["import"])
        invitees = invitees.filter(import_job=job)
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        chosen = invitees.filter(invitation__used_at__isnull=True)
        if form.cleaned_data["who"] == "new":
            chosen = chosen.filter(invited_at__isnull=True)
        else:
            chosen = chosen.filter(invited_at__isnull=False)
        sent, skipped = actions.invite_people(
            committee, chosen, channel=form.cleaned_data["channel"], actor=request.user
        )
        said = ngettext(
            "%(n)s invitation is on its way.", "%(n)s invitations are on their way.", sent
        ) % {"n": sent}
        if skipped:
            said += " " + ngettext(
                "%(n)s person was skipped: no address for it, or already joined.",
                "%(n)s people were skipped: no address for it, or already joined.",
                skipped,
            ) % {"n": skipped}
        messages.success(request, said)
        target = request.path + (f"?import={job.pk}" if job else "")
        return redirect(target)
    now = timezone.now()
    rows = []
    for invitee in invitees.order_by("pk")[:SHOWN_INVITEES]:
        rows.append(
            {"invitee": invitee, "name": invitee.detail("name"), "state": _state(invitee, now)}
        )
    deliveries = Delivery.objects.filter(
        template__in=(INVITATION, SMS_INVITATION), context__committee=committee.pk
    )
    if job is not None:
        deliveries = deliveries.filter(context__job=job.pk)
    progress = deliveries.aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(status__in=["queued", "sending"])),
        sent=Count("pk", filter=Q(status__in=["sent", "delivered"])),
        failed=Count("pk", filter=Q(status="failed")),
    )
    counts = invitees.aggregate(
        total=Count("pk"),
        joined=Count("pk", filter=Q(invitation__used_at__isnull=False)),
        invited=Count("pk", filter=Q(invited_at__isnull=False)),
    )
    context = {
        "committee": committee,
        "job": job,
        "form": form,
        "rows": rows,
        "counts": counts,
        "progress": progress,
        "percent": (progress["total"] - progress["queued"]) * 100 // progress["total"]
        if progress["total"]
        else 0,
        "refresh": progress["queued"] > 0,
        "rates": {"sms": settings.TWILIO_RATE, "email": settings.EMAIL_RATE},
        "shown": SHOWN_INVITEES,
    }
    return render(request, "people/invite.html", context, status=400 if form.errors else 200)


@require_POST
def forget(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = _coordinator(request, slug)
    invitee = access.get_invitee_for(request.user, committee, pk)
    actions.forget_invitee(invitee, actor=request.user)
    messages.success(request, _("Removed from the list. Their details are erased."))
    return redirect("people:invite", slug=slug)


def _state(invitee: Invitee, now: Any) -> str:
    if invitee.joined:
        return _("Joined")
    if invitee.invitation is None:
        return _("Not invited yet")
    if invitee.invitation.expires_at <= now or invitee.invitation.revoked_at is not None:
        return _("Link expired: send again")
    return _("Invited, not joined yet")


# Exports ------------------------------------------------------------------------------


def export(request: HttpRequest, slug: str) -> HttpResponse:
    committee = _coordinator(request, slug)
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            made = actions.request_export(
                committee,
                columns=form.cleaned_data["columns"],
                full_phones=form.cleaned_data["full_phones"],
                actor=request.user,
            )
        except IllegalTransition:
            messages.error(
                request,
                ngettext(
                    "You asked for %(n)s export today, the most for one day. Ask again tomorrow.",
                    "You asked for %(n)s exports today, the most for one day. Ask again tomorrow.",
                    actions.EXPORTS_PER_DAY,
                )
                % {"n": actions.EXPORTS_PER_DAY},
            )
            return redirect("people:export", slug=slug)
        if made.status == ExportStatus.PENDING:
            messages.info(request, _("Asked. Another coordinator must approve full phone numbers."))
        return redirect("people:export", slug=slug)
    context = {
        "committee": committee,
        "form": form,
        "exports": access.exports_for(request.user, committee)[:20],
        "labels": COLUMN_LABELS,
    }
    return render(request, "people/export.html", context, status=400 if form.errors else 200)


@require_POST
def decide_export(request: HttpRequest, slug: str, pk: int, verb: str) -> HttpResponse:
    committee = _coordinator(request, slug)
    found = access.get_export_for(request.user, committee, pk)
    if verb not in ("approve", "refuse"):
        return redirect("people:export", slug=slug)
    try:
        actions.decide_export(found, approve=verb == "approve", actor=request.user)
    except IllegalTransition as refused:
        messages.error(
            request,
            _("Another coordinator must decide on your own export.")
            if refused.code == "same_person"
            else _("That export was already decided."),
        )
    return redirect("people:export", slug=slug)


@require_POST
def download(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = _coordinator(request, slug)
    found = access.get_export_for(request.user, committee, pk)
    members = list(
        members_for(request.user, committee)
        .select_related("user")
        .prefetch_related("user__skills")
        .order_by("user__display_name")
    )
    try:
        actions.take_export(found, rows=len(members), actor=request.user)
    except IllegalTransition:
        messages.error(request, _("This export cannot be downloaded (again)."))
        return redirect("people:export", slug=slug)
    columns = list(found.columns)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{committee.slug}-members.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([str(COLUMN_LABELS[c]) for c in columns])
    for membership in members:
        writer.writerow([_cell(membership, membership.user, c, found.full_phones) for c in columns])
    return response


def _cell(membership: Any, user: User, column: str, full_phones: bool) -> str:
    if column == "name":
        value = user.display_name
    elif column == "email":
        value = user.email or ""
    elif column == "phone":
        value = user.phone if full_phones else user.masked_phone
    elif column == "language":
        value = user.language
    elif column == "zip":
        value = user.home_zip
    elif column == "status":
        value = str(membership.get_status_display())
    elif column == "roles":
        value = ", ".join(membership.roles())
    elif column == "skills":
        value = ", ".join(str(s.get_kind_display()) for s in user.skills.all())
    else:
        value = membership.joined_at.date().isoformat()
    # A cell starting with = + - @ is a formula to a spreadsheet: keep it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") and column != "phone" else value
