"""The printable incident report, its evidence files, and the public page of verified incidents."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from defensa.audit.checkpoints import verify as verify_audit
from defensa.committees.access import get_committee_for
from defensa.core.access import public
from defensa.dispatch.models import Outcome
from defensa.evidence.models import PublicPage
from defensa.incidents.access import EVIDENCE_ROLES, get_incident_for
from defensa.incidents.areas import where_label
from defensa.incidents.models import Incident, State
from defensa.incidents.timeline import verify_timeline
from defensa.record.actions import open_incident_record, set_public_page
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


def _label(choices: type, value: object) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def timeline_rows(incident: Incident) -> list[dict]:
    """Who, what, when for each step, in words (the timeline keeps ids and state names)."""
    steps = {
        "offer_accepted": _("Verifier accepted"),
        "responder_arrived": _("Verifier on site"),
        "finding": _("Verifier's finding"),
        "offer_widened": _("More verifiers asked"),
        "member_message": _("Message from the member (text)"),
    }
    references = dict(incident.reports.values_list("pk", "reference"))  # type: ignore[attr-defined]
    rows = []
    for entry in incident.timeline.select_related("actor"):  # type: ignore[attr-defined]
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        what = [steps.get(detail.get("step"), entry.get_action_display())]
        if "to" in detail:
            what.append(_label(State, detail["to"]))
        if "finding" in detail:
            what.append(_("finding: %(f)s") % {"f": _label(Outcome, detail["finding"])})
        if "report" in detail:
            what.append(_("report %(ref)s") % {"ref": references.get(detail["report"], "—")})
        if detail.get("media"):
            what.append(_("%(n)s photos or videos") % {"n": len(detail["media"])})
        rows.append({"entry": entry, "what": " · ".join(what)})
    return rows


@never_cache
def evidence_file(request: HttpRequest, ref: str, key: str) -> FileResponse:
    """One stored photo or video of the incident, for the same roles as the record."""
    incident = get_incident_for(request.user, ref, EVIDENCE_ROLES)
    item = find_item(incident, key)
    if item is None:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / item.file
    if not path.is_file():
        raise Http404
    open_incident_record(incident, actor=request.user, file_key=item.key)
    response = FileResponse(path.open("rb"), content_type=item.content_type)
    extension = path.suffix
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
