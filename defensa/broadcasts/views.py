"""Broadcast pages, for the coordinators of a committee: write, check, send, watch, stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from defensa.broadcasts import actions, estimate, progress
from defensa.broadcasts.access import broadcasts_for, get_broadcast_for
from defensa.broadcasts.forms import BroadcastForm
from defensa.broadcasts.models import Broadcast, BroadcastStatus
from defensa.core.transitions import IllegalTransition

_ERRORS = {
    "not_draft": gettext_lazy("This broadcast was already sent or sent for approval."),
    "empty": gettext_lazy("The message is empty."),
    "not_pending": gettext_lazy("This broadcast is not waiting for approval."),
    "own": gettext_lazy("Another coordinator must approve it, not the person who wrote it."),
    "not_sending": gettext_lazy("Only a broadcast that is sending can be paused."),
    "not_paused": gettext_lazy("Only a paused broadcast can go on."),
    "cancelled": gettext_lazy("This broadcast was already cancelled."),
}


def index(request: HttpRequest, slug: str) -> HttpResponse:
    committee, rows = broadcasts_for(request.user, slug)
    return render(
        request,
        "broadcasts/index.html",
        {"committee": committee, "broadcasts": rows.select_related("created_by")[:100]},
    )


def new(request: HttpRequest, slug: str) -> HttpResponse:
    committee, _rows = broadcasts_for(request.user, slug)
    form = BroadcastForm(request.POST if request.method == "POST" else None, committee=committee)
    if request.method == "POST":
        if form.is_valid():
            broadcast = actions.create_broadcast(
                committee, actor=request.user, **form.broadcast_fields()
            )
            return redirect("broadcasts:detail", slug=slug, pk=broadcast.pk)
        status = 400
    else:
        status = 200
    return render(
        request, "broadcasts/new.html", {"committee": committee, "form": form}, status=status
    )


def _detail_context(request: HttpRequest, broadcast: Broadcast) -> dict[str, Any]:
    context: dict[str, Any] = {"committee": broadcast.committee, "b": broadcast}
    if broadcast.status in (BroadcastStatus.DRAFT, BroadcastStatus.PENDING):
        plan = estimate.estimate(broadcast)
        context["plan"] = plan
        context["duration"] = estimate.duration_label(plan.seconds)
        context["price"] = estimate.price_per_segment()
        context["may_approve"] = (
            broadcast.status == BroadcastStatus.PENDING
            and request.user.pk != broadcast.created_by_id
        )
    else:
        context.update(_progress_context(broadcast))
    return context


def _progress_context(broadcast: Broadcast) -> dict[str, Any]:
    state = progress.progress(broadcast)
    return {
        "b": broadcast,
        "p": state,
        "eta": estimate.duration_label(state.eta_seconds),
        "stalled": actions.is_stalled(broadcast),
        "live": broadcast.is_active and not state.finished,
    }


def detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    broadcast = get_broadcast_for(request.user, slug, pk)
    return render(request, "broadcasts/detail.html", _detail_context(request, broadcast))


def progress_fragment(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    broadcast = get_broadcast_for(request.user, slug, pk)
    context = {"committee": broadcast.committee, **_progress_context(broadcast)}
    return render(request, "broadcasts/_progress.html", context)


def _act(action: Callable[..., Any], done: Any) -> Callable[[HttpRequest, str, int], HttpResponse]:
    @require_POST
    def view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        broadcast = get_broadcast_for(request.user, slug, pk)
        try:
            action(broadcast, actor=request.user)
        except IllegalTransition as exc:
            messages.error(request, _ERRORS[exc.code])
        else:
            messages.success(request, str(done))
        return redirect("broadcasts:detail", slug=slug, pk=broadcast.pk)

    view.__name__ = action.__name__
    return view


send = _act(actions.send_broadcast, gettext_lazy("Done. See below what happens next."))
approve = _act(actions.approve_broadcast, gettext_lazy("Approved. Sending has started."))
pause = _act(
    actions.pause_broadcast, gettext_lazy("Paused. Nothing more goes out until you go on.")
)
resume = _act(actions.resume_broadcast, gettext_lazy("Sending again."))
cancel = _act(actions.cancel_broadcast, gettext_lazy("Cancelled. Nothing more will go out."))


@require_POST
def restart(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    broadcast = get_broadcast_for(request.user, slug, pk)
    if actions.restart_enqueue(broadcast, actor=request.user):
        messages.success(request, _("Queueing goes on from where it stopped."))
    return redirect("broadcasts:detail", slug=slug, pk=broadcast.pk)
