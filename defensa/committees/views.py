"""Committee pages: joining by invitation, the committee page, vouching, members, invitations.

Views parse, check access through committees.access, call one action and render.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from defensa.accounts import mfa
from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees import access, actions
from defensa.committees.areas import area_label
from defensa.committees.forms import (
    AnnouncementForm,
    CodeForm,
    InvitationForm,
    JoinForm,
    MemberSkillsForm,
    RolesForm,
    SmsInvitationForm,
)
from defensa.committees.models import (
    GrantKind,
    GrantStatus,
    Invitation,
    Membership,
    MemberStatus,
    RoleGrant,
    Shift,
    Vouch,
)
from defensa.core.access import public, signed_in
from defensa.notify.access import failed_deliveries_for
from defensa.notify.actions import opted_out_among

SESSION_JOIN = "committees_join"
SESSION_NEW_LINK = "committees_new_invitation_link"


def posted(request: HttpRequest) -> QueryDict | None:
    """Form data for a POST (even an empty one, which must fail validation), else None."""
    return request.POST if request.method == "POST" else None


def remember_language(response: HttpResponse, language: str) -> HttpResponse:
    """Make the person's chosen language the language of the next pages too."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )
    return response


# Joining ------------------------------------------------------------------------------


def _invitation_problem(request: HttpRequest, invitation: Invitation | None) -> HttpResponse | None:
    """The page to show for a link that cannot be used, or None if it can."""
    if invitation is None:
        reason, status = "unknown", 404
    elif invitation.used_at is not None:
        reason, status = "used", 410
    elif invitation.revoked_at is not None:
        reason, status = "revoked", 410
    elif invitation.expires_at <= timezone.now():
        reason, status = "expired", 410
    else:
        return None
    request.session.pop(SESSION_JOIN, None)
    return render(request, "committees/join_invalid.html", {"reason": reason}, status=status)


def _join_signed_in(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    """A signed-in person opened a link: they may join this committee with their account."""
    committee = invitation.committee
    if request.method == "POST" and request.POST.get("join_as_me") == "yes":
        try:
            membership = actions.join_with_account(invitation, user=request.user)
        except actions.AlreadyMember:
            messages.info(request, _("You are already a member of this committee."))
            return redirect("committees:detail", slug=committee.slug)
        except actions.InvitationUnusable:
            invitation.refresh_from_db()
            return _invitation_problem(request, invitation) or redirect("committees:list")
        messages.success(
            request,
            _("Welcome! You are now a member of %(committee)s.") % {"committee": committee.name},
        )
        return redirect("committees:detail", slug=membership.committee.slug)
    return render(request, "committees/join_signed_in.html", {"committee": committee})


@public
def join(request: HttpRequest, token: str) -> HttpResponse:
    """Step 1: name, email, password, language."""
    invitation = actions.find_invitation(token)
    problem = _invitation_problem(request, invitation)
    if problem is not None:
        return problem
    assert invitation is not None  # noqa: S101 (narrowing for the type checker)
    if request.user.is_authenticated:
        return _join_signed_in(request, invitation)
    if request.method == "POST":
        form = JoinForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            request.session[SESSION_JOIN] = {
                "invitation": invitation.pk,
                "display_name": data["display_name"],
                "email": data["email"],
                "language": data["language"],
                "password_hash": make_password(data["password"]),
                "secret": mfa.new_totp_secret(),
            }
            response = redirect("join:code", token=token)
            translation.activate(data["language"])
            return remember_language(response, data["language"])
    else:
        form = JoinForm(initial={"language": translation.get_language() or "en"})
    return render(request, "committees/join.html", {"form": form, "invitation": invitation})


@public
@never_cache  # the page shows the new account's TOTP secret: no browser or proxy may keep it
def join_code(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2: add the account to an authenticator app and type a code; then join."""
    invitation = actions.find_invitation(token)
    problem = _invitation_problem(request, invitation)
    if problem is not None:
        return problem
    assert invitation is not None  # noqa: S101
    if request.user.is_authenticated:
        return redirect("join:start", token=token)
    pending = request.session.get(SESSION_JOIN)
    if not isinstance(pending, dict) or pending.get("invitation") != invitation.pk:
        return redirect("join:start", token=token)
    form = CodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        signup = actions.SignUp(
            display_name=pending["display_name"],
            email=pending["email"],
            password_hash=pending["password_hash"],
            language=pending["language"],
            totp_secret=pending["secret"],
            totp_code=form.cleaned_data["code"],
        )
        try:
            membership = actions.accept_invitation(invitation, signup)
        except actions.BadCode:
            form.add_error("code", _("That code didn't work. Wait for a new one and try again."))
        except actions.EmailTaken:
            request.session.pop(SESSION_JOIN, None)
            messages.error(request, _("There is already an account with this email."))
            return redirect("join:start", token=token)
        except actions.InvitationUnusable:
            invitation.refresh_from_db()
            return _invitation_problem(request, invitation) or redirect("join:start", token=token)
        else:
            request.session.pop(SESSION_JOIN, None)
            mfa.complete_login(request, membership.user, "totp")
            translation.activate(membership.user.language)
            messages.success(
                request,
                _("Welcome! You are now a member of %(committee)s.")
                % {"committee": membership.committee.name},
            )
            # Recovery codes are offered at enrolment: the security page makes them now,
            # without asking for the password again (it was typed a moment ago).
            messages.info(
                request,
                _(
                    "Next, in case you lose your phone: open My page, then Sign-in and "
                    "security, and make your recovery codes."
                ),
            )
            response = redirect("committees:detail", slug=membership.committee.slug)
            return remember_language(response, membership.user.language)
    probe = User(email=pending["email"])
    context = {
        "form": form,
        "invitation": invitation,
        "secret": pending["secret"],
        "secret_groups": " ".join(
            pending["secret"][i : i + 4] for i in range(0, len(pending["secret"]), 4)
        ),
        "qr_svg": mfa.totp_qr_svg(probe, pending["secret"]),
    }
    return render(request, "committees/join_code.html", context)


# The committee page -------------------------------------------------------------------


@signed_in
def my_committees(request: HttpRequest) -> HttpResponse:
    memberships = access.memberships_for(request.user)
    return render(request, "committees/list.html", {"memberships": memberships})


def _committee_context(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    committee = membership.committee
    context: dict[str, Any] = {
        "committee": committee,
        "membership": membership,
        "announcements": access.announcements_for(request.user, committee)[:50],
        "vouch_count": membership.vouches.count() if not membership.is_full else None,
    }
    if membership.is_full:
        context["waiting"] = (
            access.probationers_for(request.user, committee)
            .select_related("user")
            .annotate(
                n_vouches=Count("vouches"),
                i_vouched=Exists(
                    Vouch.objects.filter(membership=OuterRef("pk"), voucher=request.user)
                ),
            )
            .order_by("joined_at")
        )
    if membership.is_coordinator and membership.is_full:
        context["announce_form"] = AnnouncementForm()
        # Requests waiting here and below (coordinators, skills, switching off and on).
        context["pending_requests"] = (
            access.role_grants_for(request.user, committee)
            .filter(status=GrantStatus.PENDING)
            .count()
        )
    return context


@require_GET
def committee_detail(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access.get_own_membership_for(request.user, slug)
    return render(request, "committees/detail.html", _committee_context(request, membership))


@require_POST
def announce(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access.get_own_membership_for(request.user, slug, "coordinator")
    form = AnnouncementForm(request.POST)
    if form.is_valid():
        actions.post_announcement(
            membership.committee, actor=request.user, body=form.cleaned_data["body"]
        )
        messages.success(request, _("Your message was posted."))
        return redirect("committees:detail", slug=slug)
    context = _committee_context(request, membership)
    context["announce_form"] = form
    return render(request, "committees/detail.html", context, status=400)


_VOUCH_ERRORS = {
    "self": gettext_lazy("You can't vouch for yourself."),
    "twice": gettext_lazy("You already vouched for this person."),
    "not_on_probation": gettext_lazy("This person is already a full member."),
}


@require_POST
def vouch(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "full")
    target = access.get_probationer_for(request.user, committee, pk)
    try:
        promoted = actions.vouch_for(target, actor=request.user)
    except actions.ActionError as error:
        messages.error(request, _VOUCH_ERRORS.get(str(error), _("That didn't work.")))
    else:
        if promoted:
            messages.success(
                request,
                _("Thank you. %(name)s is now a full member.") % {"name": target.user.display_name},
            )
        else:
            messages.success(
                request,
                _("Thank you for vouching for %(name)s.") % {"name": target.user.display_name},
            )
    return redirect("committees:detail", slug=slug)


# Invitations --------------------------------------------------------------------------


def invitations(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    form = InvitationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        _, token = actions.create_invitation(
            committee, actor=request.user, note=form.cleaned_data["note"]
        )
        # Shown once: kept in the session only until the next page has displayed it.
        request.session[SESSION_NEW_LINK] = request.build_absolute_uri(
            reverse("join:start", kwargs={"token": token})
        )
        return redirect("committees:invitations", slug=slug)
    new_link = request.session.pop(SESSION_NEW_LINK, None) if request.method == "GET" else None
    open_invitations = (
        access.invitations_for(request.user, committee)
        .filter(Invitation.usable(timezone.now()))
        .select_related("created_by")
        .order_by("-created_at")
    )
    context = {
        "committee": committee,
        "form": form,
        "new_link": new_link,
        "open_invitations": open_invitations,
        "days": settings.INVITATION_DAYS,
    }
    return render(
        request, "committees/invitations.html", context, status=400 if form.errors else 200
    )


@require_POST
def web_link(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A single-use link for an SMS-only member to add a web sign-in to their own account."""
    committee = access.get_committee_for(request.user, slug, "coordinator")
    membership = access.get_membership_for(request.user, committee, pk)
    try:
        _made, token = actions.create_invitation(
            committee,
            actor=request.user,
            note=membership.user.display_name[:80],
            for_user=membership.user,
        )
    except actions.ActionError:
        messages.info(request, _("This person already has a web sign-in."))
        return redirect("committees:member", slug=slug, pk=membership.pk)
    request.session[SESSION_NEW_LINK] = request.build_absolute_uri(
        reverse("join:start", kwargs={"token": token})
    )
    return redirect("committees:invitations", slug=slug)


@require_POST
def revoke_invitation(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    invitation = access.get_invitation_for(request.user, committee, pk)
    if actions.revoke_invitation(invitation, actor=request.user):
        messages.success(request, _("The link was cancelled. It no longer works."))
    else:
        messages.info(request, _("That link was already used or cancelled."))
    return redirect("committees:invitations", slug=slug)


# Members (coordinators) ---------------------------------------------------------------


def members(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    return _members_page(request, committee, SmsInvitationForm())


def _members_page(
    request: HttpRequest, committee: Any, sms_form: SmsInvitationForm, status: int = 200
) -> HttpResponse:
    rows = (
        access.members_for(request.user, committee)
        .select_related("user", "committee")
        .annotate(n_vouches=Count("vouches"))
        .prefetch_related(
            Prefetch("user__skills", queryset=Skill.objects.order_by("kind")),
            Prefetch("shifts", queryset=Shift.objects.all()),
        )
        .order_by("status", "user__display_name")
    )
    now = timezone.now()
    for m in rows:
        m.area = area_label(m.user)  # type: ignore[attr-defined]
    waiting = [m for m in rows if m.status == MemberStatus.PROBATION]
    # An SMS-only member who texted STOP can be reached no other way: say so.
    unreachable = opted_out_among([m.user.phone for m in rows if m.user.sms_only])
    for m in rows:
        m.unreachable = m.user.sms_only and m.user.phone in unreachable  # type: ignore[attr-defined]
    context = {
        "committee": committee,
        "rows": rows,
        "waiting": waiting,
        "now": now,
        "sms_form": sms_form,
        "days": settings.INVITATION_DAYS,
    }
    return render(request, "committees/members.html", context, status=status)


@require_POST
def invite_by_text(request: HttpRequest, slug: str) -> HttpResponse:
    """Invite a member without a smartphone: a text with a code they text back to join."""
    committee = access.get_committee_for(request.user, slug, "coordinator")
    form = SmsInvitationForm(request.POST)
    if not form.is_valid():
        return _members_page(request, committee, form, status=400)
    data = form.cleaned_data
    actions.invite_by_text(
        committee,
        actor=request.user,
        phone=data["phone"],
        name=data["display_name"],
        language=data["language"],
        full=data["full"],
    )
    messages.success(
        request,
        _(
            "The invitation is on its way to %(name)s by text. They join by texting back the "
            "code in it; they will appear here, marked SMS only."
        )
        % {"name": data["display_name"]},
    )
    return redirect("committees:members", slug=slug)


def _member_context(request: HttpRequest, membership: Membership, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "committee": membership.committee,
        "member": membership,
        "skills": list(membership.user.skills.order_by("kind")),  # type: ignore[attr-defined]
        "roles_form": RolesForm(
            initial={
                "is_dispatcher": membership.is_dispatcher,
                "is_legal": membership.is_legal,
                "is_intake": membership.is_intake,
                "is_coordinator": membership.is_coordinator,
            }
        ),
        "skills_form": MemberSkillsForm(
            initial={"skills": list(membership.user.skills.values_list("kind", flat=True))}  # type: ignore[attr-defined]
        ),
        "vouch_count": membership.vouches.count(),
        "pending_grant": RoleGrant.objects.filter(
            membership=membership, role=GrantKind.COORDINATOR, status=GrantStatus.PENDING
        ).first(),
        "pending_deactivation": RoleGrant.objects.filter(
            membership=membership, role=GrantKind.DEACTIVATE, status=GrantStatus.PENDING
        ).first(),
        "is_self": membership.user_id == request.user.pk,
        # Every message that could not reach this person, so a coordinator can reach them.
        "failures": list(failed_deliveries_for(request.user, membership.user)[:50]),
    }
    context.update(extra)
    return context


def member_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    membership = access.get_membership_for(request.user, committee, pk)
    return render(request, "committees/member.html", _member_context(request, membership))


@require_POST
def reveal_phone(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    membership = access.get_membership_for(request.user, committee, pk)
    try:
        phone = actions.reveal_phone(membership, actor=request.user)
    except actions.RevealQuota:
        messages.error(
            request,
            _(
                "You have shown many phone numbers in the last hour. Try again later, "
                "or ask another coordinator."
            ),
        )
        context = _member_context(request, membership)
        return render(request, "committees/member.html", context, status=429)
    return render(
        request, "committees/member.html", _member_context(request, membership, revealed=phone)
    )


_ROLE_ERRORS = {
    "probation": gettext_lazy("People on probation can't have roles until they are vouched for."),
    "last_coordinator": gettext_lazy("The committee needs at least one coordinator."),
    "no_web_sign_in": gettext_lazy(
        "This person has no web sign-in with a second factor (a password and an "
        "authenticator app or a passkey), which dispatchers, coordinators and the legal team "
        "need. They can keep taking part by text message."
    ),
    "decided": gettext_lazy("This request was already decided."),
    "own_request": gettext_lazy(
        "You asked for this, so another coordinator must approve it: that is the point."
    ),
    "not_allowed": gettext_lazy(
        "Only another coordinator of this committee, or of a committee above it, can decide."
    ),
    "stale": gettext_lazy("The account changed since this was asked: nothing was done."),
    "last_admin": gettext_lazy(
        "This is the network's last active administrator: the account can't be switched off."
    ),
    "self": gettext_lazy("You can't switch off your own account here."),
    "own_trusted_skill": gettext_lazy(
        "You can't give yourself a skill like this one: ask for it on your own skills page, "
        "and another coordinator decides."
    ),
}

_SECOND_REASONS = {
    "coordinator": gettext_lazy("they are a coordinator"),
    "network_admin": gettext_lazy("they are a network administrator"),
    "other_committee": gettext_lazy("they are also in a committee you don't coordinate"),
}


@require_POST
def change_roles(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    membership = access.get_membership_for(request.user, committee, pk)
    form = RolesForm(request.POST)
    if not form.is_valid():  # pragma: no cover - booleans always validate
        return redirect("committees:member", slug=slug, pk=membership.pk)
    try:
        changed = actions.change_roles(membership, actor=request.user, **form.cleaned_data)
    except actions.ActionError as error:
        messages.error(request, _ROLE_ERRORS.get(str(error), _("That didn't work.")))
    else:
        asked = form.cleaned_data["is_coordinator"] and not membership.is_coordinator
        if asked:
            messages.success(
                request,
                _(
                    "Saved. %(name)s becomes a coordinator only when another coordinator "
                    "approves: they will find the request under Role requests."
                )
                % {"name": membership.user.display_name},
            )
        elif changed:
            messages.success(request, _("Roles saved."))
    return redirect("committees:member", slug=slug, pk=membership.pk)


def role_requests(request: HttpRequest, slug: str) -> HttpResponse:
    """Requests to make someone a coordinator, here and in the committees below, for a second
    coordinator to approve or refuse."""
    committee = access.get_committee_for(request.user, slug, "coordinator")
    grants = access.role_grants_for(request.user, committee)
    pending = list(grants.filter(status=GrantStatus.PENDING).order_by("requested_at"))
    for grant in pending:
        grant.can_decide = actions.can_decide_grant(grant, request.user)  # type: ignore[attr-defined,arg-type]
        grant.is_mine = grant.requested_by_id == request.user.pk  # type: ignore[attr-defined]
    decided = grants.exclude(status=GrantStatus.PENDING).order_by("-decided_at")[:20]
    context = {"committee": committee, "pending": pending, "decided": decided}
    return render(request, "committees/role_requests.html", context)


def _decision_message(grant: RoleGrant, *, approve: bool) -> str:
    name = grant.membership.user.display_name
    if not approve:
        return _("Refused: nothing changes for %(name)s.") % {"name": name}
    if grant.role == GrantKind.SKILL:
        return _("%(name)s now has the skill: %(skill)s.") % {
            "name": name,
            "skill": SkillKind(grant.skill).label,
        }
    if grant.role == GrantKind.DEACTIVATE:
        return _("%(name)s's account is switched off and signed out everywhere.") % {"name": name}
    if grant.role == GrantKind.REACTIVATE:
        return _("%(name)s's account is switched on again: they can sign in.") % {"name": name}
    return _("%(name)s is now a coordinator and must sign in again with a passkey.") % {
        "name": name
    }


@require_POST
def decide_role(request: HttpRequest, slug: str, pk: int, verb: str) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    grant = access.get_role_grant_for(request.user, committee, pk)
    if verb not in ("approve", "refuse"):
        raise Http404
    try:
        actions.decide_role_grant(grant, actor=request.user, approve=verb == "approve")  # type: ignore[arg-type]
    except actions.ActionError as error:
        messages.error(request, _ROLE_ERRORS.get(str(error), _("That didn't work.")))
    else:
        messages.success(request, _decision_message(grant, approve=verb == "approve"))
    return redirect("committees:role_requests", slug=slug)


@require_POST
def change_skills(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    membership = access.get_membership_for(request.user, committee, pk)
    form = MemberSkillsForm(request.POST)
    if not form.is_valid():
        context = _member_context(request, membership, skills_form=form)
        return render(request, "committees/member.html", context, status=400)
    try:
        actions.change_member_skills(
            membership, actor=request.user, kinds=form.cleaned_data["skills"]
        )
    except actions.ActionError as error:
        messages.error(request, _ROLE_ERRORS.get(str(error), _("That didn't work.")))
    else:
        messages.success(request, _("Skills saved."))
    return redirect("committees:member", slug=slug, pk=membership.pk)


@require_POST
def deactivate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    membership = access.get_membership_for(request.user, committee, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm."))
        return redirect("committees:member", slug=slug, pk=membership.pk)
    try:
        grant = actions.deactivate_member(membership, actor=request.user)
    except actions.ActionError as error:
        messages.error(request, _ROLE_ERRORS.get(str(error), _("That didn't work.")))
        return redirect("committees:member", slug=slug, pk=membership.pk)
    name = membership.user.display_name
    if grant is not None:
        reason = actions.deactivation_needs_second(membership, actor=request.user)
        messages.success(
            request,
            _(
                "Asked. Because %(reason)s, another coordinator must approve switching off "
                "%(name)s's account: they will find the request under Role requests."
            )
            % {"reason": _SECOND_REASONS.get(reason, ""), "name": name},
        )
        return redirect("committees:member", slug=slug, pk=membership.pk)
    messages.success(
        request, _("%(name)s's account is switched off and signed out everywhere.") % {"name": name}
    )
    return redirect("committees:members", slug=slug)


def switched_off(request: HttpRequest, slug: str) -> HttpResponse:
    """Switched-off accounts of the committee: a coordinator can ask to switch one back on."""
    committee = access.get_committee_for(request.user, slug, "coordinator")
    rows = list(
        access.switched_off_for(request.user, committee)
        .select_related("user")
        .order_by("user__display_name")
    )
    waiting = set(
        RoleGrant.objects.filter(
            membership__in=rows, role=GrantKind.REACTIVATE, status=GrantStatus.PENDING
        ).values_list("membership_id", flat=True)
    )
    for row in rows:
        row.waiting = row.pk in waiting  # type: ignore[attr-defined]
    return render(request, "committees/switched_off.html", {"committee": committee, "rows": rows})


@require_POST
def request_reactivation(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    membership = access.get_switched_off_for(request.user, committee, pk)
    actions.request_reactivation(membership, actor=request.user)
    messages.success(
        request,
        _(
            "Asked. %(name)s's account is switched on again only when another coordinator "
            "approves: they will find the request under Role requests."
        )
        % {"name": membership.user.display_name},
    )
    return redirect("committees:switched_off", slug=slug)
