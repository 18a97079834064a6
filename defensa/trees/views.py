"""Phone tree pages: a committee's trees (coordinators), a cascade's live page, a captain's
group on their phone, and the one-tap confirmation of a cascade's text."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from defensa.accounts.models import User
from defensa.audit.reveals import RevealQuota
from defensa.core.access import public
from defensa.trees import access, actions, chart
from defensa.trees.forms import CallForm, CaptainsForm, CascadeForm, MoveForm, TreeForm
from defensa.trees.models import Cascade, Tree, Via


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    """The trees of the committees the user coordinates (404 for anyone else)."""
    committees = list(access.tree_committees_for(request.user))
    if not committees:
        raise Http404
    return render(
        request,
        "trees/index.html",
        {"committees": committees, "trees": list(access.trees_for(request.user))},
    )


@never_cache
def new(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_tree_committee_for(request.user, slug)
    form = TreeForm(request.POST or None, committee=committee)
    if request.method == "POST" and form.is_valid():
        try:
            made = actions.create_tree(
                committee,
                name=form.cleaned_data["name"],
                captains=list(form.cleaned_data["captains"]),
                actor=_user(request),
            )
        except actions.TreeError as error:
            form.add_error(
                "captains" if error.code in ("no_captains", "captain") else None, error.message
            )
        else:
            messages.success(request, _("The tree is built. Check the groups, then run a drill."))
            return redirect("trees:tree", pk=made.pk)
    return render(request, "trees/new.html", {"committee": committee, "form": form})


def _drills(tree: Tree) -> list[Cascade]:
    return list(
        Cascade.objects.filter(
            tree__committee=tree.committee, is_drill=True, ended_at__isnull=False
        ).order_by("started_at", "pk")
    )


@never_cache
def tree(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_tree_for(request.user, pk)
    branches = list(found.branches.select_related("captain").prefetch_related("leaves__person"))  # type: ignore[attr-defined]
    drills = _drills(found)
    return render(
        request,
        "trees/tree.html",
        {
            "tree": found,
            "branches": branches,
            "unplaced": found.leaves.filter(branch__isnull=True).select_related("person"),  # type: ignore[attr-defined]
            "cascades": found.cascades.all()[:20],  # type: ignore[attr-defined]
            "drills": drills,
            "chart": chart.draw([d.figures for d in drills]),
            "form": CascadeForm(),
            "captains_form": CaptainsForm(
                tree=found, initial={"captains": [b.captain for b in branches]}
            ),
        },
    )


@require_POST
def captains(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_tree_for(request.user, pk)
    form = CaptainsForm(request.POST, tree=found)
    if form.is_valid():
        try:
            actions.set_captains(
                found, captains=list(form.cleaned_data["captains"]), actor=_user(request)
            )
        except actions.TreeError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Captains saved; every group is balanced again."))
    else:
        messages.error(request, _("Choose the captains among the full members."))
    return redirect("trees:tree", pk=found.pk)


@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_tree_for(request.user, pk)
    form = MoveForm(request.POST)
    branch = None
    if form.is_valid():
        leaf = access.get_leaf_for(request.user, found, form.cleaned_data["leaf"])
        position = form.cleaned_data["group"] - 1
        branch = access.branches_for(request.user, found).filter(position=position).first()
    if branch is None:
        messages.error(request, _("Choose the number of one of this tree's groups."))
        return redirect("trees:tree", pk=found.pk)
    actions.move_person(leaf, branch, actor=_user(request))
    messages.success(request, _("Moved."))
    return redirect("trees:tree", pk=found.pk)


@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_tree_for(request.user, pk)
    form = CascadeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("trees:tree", pk=found.pk)
    try:
        cascade = actions.start_cascade(
            found,
            message=form.cleaned_data["message"],
            is_drill=form.cleaned_data["is_drill"],
            text_all=form.cleaned_data["text_all"],
            actor=_user(request),
        )
    except actions.TreeError as error:
        messages.error(request, error.message)
        return redirect("trees:tree", pk=found.pk)
    return redirect("trees:cascade", pk=cascade.pk)


def _live_context(cascade: Cascade) -> dict[str, object]:
    """Each group's count, and by name only who has not confirmed yet (what is left to do):
    a 10,000-person tree's page stays small enough to reload every few seconds."""
    duties = list(cascade.duties.select_related("captain"))  # type: ignore[attr-defined]
    counts: dict[int | None, list[int]] = {}
    for duty_id, confirmed in cascade.reaches.filter(is_captain=False).values_list(  # type: ignore[attr-defined]
        "duty_id", "confirmed_at"
    ):
        pair = counts.setdefault(duty_id, [0, 0])
        pair[0] += confirmed is not None
        pair[1] += 1
    waiting = list(
        cascade.reaches.filter(confirmed_at__isnull=True, is_captain=False)  # type: ignore[attr-defined]
        .select_related("person")
        .order_by("person__display_name", "pk")
    )
    by_duty: dict[int | None, list[object]] = {}
    for reach in waiting:
        by_duty.setdefault(reach.duty_id, []).append(reach)
    captains_confirmed = set(
        cascade.reaches.filter(is_captain=True, confirmed_at__isnull=False).values_list(  # type: ignore[attr-defined]
            "person_id", flat=True
        )
    )
    groups = [
        {
            "duty": d,
            "captain_confirmed": d.captain_id in captains_confirmed,
            "confirmed": counts.get(d.pk, [0, 0])[0],
            "total": counts.get(d.pk, [0, 0])[1],
            "waiting": by_duty.get(d.pk, []),
        }
        for d in duties
    ]
    handed = cascade.reaches.filter(handed_to_coordinators=True)  # type: ignore[attr-defined]
    return {
        "cascade": cascade,
        "figures": cascade.figures if cascade.ended_at else actions.live_figures(cascade),
        "groups": groups,
        "coordinators": [r for r in waiting if r.handed_to_coordinators],
        "handed": handed.count(),
        "handed_confirmed": handed.filter(confirmed_at__isnull=False).count(),
    }


@never_cache
def cascade(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_cascade_for(request.user, pk)
    return render(request, "trees/cascade.html", _live_context(found))


@never_cache
def live(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the cascade page, for htmx's poll."""
    found = access.get_cascade_for(request.user, pk)
    return render(request, "trees/_live.html", _live_context(found))


@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_cascade_for(request.user, pk)
    try:
        actions.end_cascade(found, actor=_user(request))
    except actions.TreeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Ended. Its figures are kept with the tree."))
    return redirect("trees:cascade", pk=found.pk)


@never_cache
def captain(request: HttpRequest, pk: int) -> HttpResponse:
    """A captain's group in this cascade; a coordinator of the tree goes to the live page."""
    try:
        duty = access.get_duty_for(request.user, pk)
    except Http404:
        found = access.get_cascade_for(request.user, pk)
        return redirect("trees:cascade", pk=found.pk)
    return render(
        request,
        "trees/captain.html",
        {"duty": duty, "cascade": duty.cascade, "reaches": list(actions.handled_by(duty))},
    )


@require_POST
def text_group(request: HttpRequest, pk: int) -> HttpResponse:
    duty = access.get_duty_for(request.user, pk)
    try:
        actions.text_group(duty, actor=_user(request))
    except actions.TreeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Texts are on their way to everyone not yet confirmed."))
    return redirect("trees:captain", pk=duty.cascade_id)


@require_POST
def report_group(request: HttpRequest, pk: int) -> HttpResponse:
    duty = access.get_duty_for(request.user, pk)
    try:
        actions.report_group(duty, actor=_user(request))
    except actions.TreeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you: your group is marked as reached."))
    return redirect("trees:captain", pk=duty.cascade_id)


@require_POST
def log_call(request: HttpRequest, pk: int, reach: int) -> HttpResponse:
    found = access.get_reach_for(request.user, pk, reach)
    form = CallForm(request.POST)
    form.is_valid()
    try:
        actions.log_call(
            found, reached=bool(form.cleaned_data.get("reached")), actor=_user(request)
        )
    except actions.TreeError as error:
        messages.error(request, error.message)
    if found.duty_id is None:
        return redirect("trees:cascade", pk=found.cascade_id)
    return redirect("trees:captain", pk=found.cascade_id)


@require_POST
@never_cache
def reveal_number(request: HttpRequest, pk: int, reach: int) -> HttpResponse:
    """One person's number, to call them now (an audited reveal, like a member's phone)."""
    found = access.get_reach_for(request.user, pk, reach)
    back = "trees:cascade" if found.duty_id is None else "trees:captain"
    try:
        phone = actions.reveal_number(found, actor=_user(request))
    except RevealQuota:
        messages.error(
            request,
            _("You have shown many phone numbers in the last hour. Ask a coordinator to help."),
        )
        return redirect(back, pk=found.cascade_id)
    return render(
        request,
        "trees/number.html",
        {"reach": found, "phone": phone, "back": back, "cascade": found.cascade},
    )


@public
@never_cache
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """One tap: a page with one button (a link preview must not confirm for the person)."""
    reach = actions.find_reach(token)
    if reach is None:
        return render(request, "trees/confirm.html", {"unknown": True}, status=404)
    done = False
    if request.method == "POST":
        done = actions.confirm_reach(reach, via=Via.LINK) or reach.confirmed_at is not None
        reach.refresh_from_db(fields=["confirmed_at"])
    return render(
        request,
        "trees/confirm.html",
        {"reach": reach, "cascade": reach.cascade, "done": done or reach.confirmed_at},
    )
