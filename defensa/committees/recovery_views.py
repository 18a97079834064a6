"""Account recovery: the public request, the approvers' pages, and the single-use link.

The public form answers the same whatever was typed, so it tells nobody whether an account
exists. Two approvers (coordinators, or for an administrator two other administrators)
decide; the second one is shown the link once, to hand over in person.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from defensa.accounts import mfa
from defensa.accounts.models import User
from defensa.committees import access, actions
from defensa.committees.forms import RecoveryAskForm, RecoverySetForm
from defensa.committees.models import RecoveryRequest
from defensa.committees.views import posted
from defensa.core.access import public

SESSION_LINK = "committees_recovery_link"
SESSION_SECRET = "committees_recovery_secret"  # noqa: S105 (a session key's name)


def _error(code: str) -> str:
    texts = {
        "decided": _("This request was already decided or has lapsed."),
        "self": _("You cannot decide your own request."),
        "twice": _("You approved already: another person must approve too."),
        "not_allowed": _("You cannot decide this request."),
    }
    return texts.get(code, _("That didn't work."))


@public
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    """Ask to recover an account. The answer is the same for every address."""
    form = RecoveryAskForm(posted(request))
    if request.method == "POST" and form.is_valid():
        actions.request_recovery(form.cleaned_data["who"])
        return render(request, "committees/recover_asked.html")
    status = 400 if form.errors else 200
    return render(request, "committees/recover_ask.html", {"form": form}, status=status)


def _page_with_link(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    context["new_link"] = (
        request.session.pop(SESSION_LINK, None) if request.method == "GET" else None
    )
    response = render(request, template, context)
    if context["new_link"]:
        response["Cache-Control"] = "no-store"
    return response


def _decide(request: HttpRequest, found: RecoveryRequest, verb: str) -> None:
    if verb not in ("approve", "refuse"):
        raise Http404
    name = found.user.display_name
    try:
        token = actions.decide_recovery(found, actor=request.user, approve=verb == "approve")  # type: ignore[arg-type]
    except actions.ActionError as error:
        messages.error(request, _error(str(error)))
        return
    if verb == "refuse":
        messages.success(request, _("Refused: nothing changes for %(name)s.") % {"name": name})
    elif token is None:
        messages.success(
            request,
            _("Approved. One more person must approve before %(name)s gets a link.")
            % {"name": name},
        )
    else:
        # Shown once: kept in the session only until the next page has displayed it.
        request.session[SESSION_LINK] = request.build_absolute_uri(
            reverse("recover:link", kwargs={"token": token})
        )
        messages.success(
            request,
            _("Approved. %(name)s was signed out everywhere; their old factors no longer work.")
            % {"name": name},
        )


@require_GET
def committee_requests(request: HttpRequest, slug: str) -> HttpResponse:
    """Coordinators: members asking to recover their accounts."""
    committee = access.get_committee_for(request.user, slug, "coordinator")
    pending = [
        (item, actions.can_decide_recovery(item, request.user))  # type: ignore[arg-type]
        for item in access.recovery_requests_for(request.user, committee).order_by("created_at")
    ]
    context = {"committee": committee, "pending": pending}
    return _page_with_link(request, "committees/recovery_requests.html", context)


@require_POST
def committee_decide(request: HttpRequest, slug: str, pk: int, verb: str) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    found = access.get_recovery_request_for(request.user, committee, pk)
    _decide(request, found, verb)
    return redirect("committees:recovery_requests", slug=slug)


@require_GET
def admin_requests(request: HttpRequest) -> HttpResponse:
    """Network administrators: other administrators asking to recover their accounts."""
    user: User = request.user  # type: ignore[assignment]
    pending = [
        (item, actions.can_decide_recovery(item, user))
        for item in access.admin_recovery_requests_for(user).order_by("created_at")
    ]
    return _page_with_link(
        request, "committees/recovery_requests.html", {"committee": None, "pending": pending}
    )


@require_POST
def admin_decide(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    found = access.get_admin_recovery_request_for(request.user, pk)
    _decide(request, found, verb)
    return redirect("recover:admin_requests")


@public
@never_cache  # the page shows the new authenticator key: no browser or proxy may keep it
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The single-use link: a new password and a new authenticator app, then recovery codes."""
    found = actions.find_recovery(token)
    if found is None:
        return render(request, "committees/recover_gone.html", status=404)
    user = found.user
    kept = request.session.get(SESSION_SECRET)
    if isinstance(kept, dict) and kept.get("request") == found.pk:
        secret = kept["secret"]
    else:
        secret = mfa.new_totp_secret()
        request.session[SESSION_SECRET] = {"request": found.pk, "secret": secret}
    form = RecoverySetForm(posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            codes = actions.complete_recovery(
                found,
                password=form.cleaned_data["password"],
                secret=secret,
                code=form.cleaned_data["code"],
            )
        except actions.BadCode:
            form.add_error("code", _("That code did not work. Check the app shows this account."))
        except actions.InvitationUnusable:
            return render(request, "committees/recover_gone.html", status=404)
        else:
            request.session.pop(SESSION_SECRET, None)
            return render(request, "committees/recover_done.html", {"codes": codes})
    context = {
        "form": form,
        "person": user,
        "secret": secret,
        "secret_blocks": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": mfa.totp_qr_svg(user, secret),
    }
    return render(
        request, "committees/recover_link.html", context, status=400 if form.errors else 200
    )
