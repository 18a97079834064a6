"""What a network still needs before it can take a real report: the readiness checklist.

Each line is a question with a yes or a no, what is missing in people's words, and the page
where it is fixed (or the server setting, for what only the operator can change). The admins'
page (`ops:readiness`) shows every line, done ones too, so a new network sees its progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from defensa.accounts.models import SkillKind, User
from defensa.committees.access import committees_for
from defensa.committees.areas import area_overview
from defensa.committees.models import Committee, Kind
from defensa.committees.teams import on_the_rota
from defensa.core.checks import master_key_problem
from defensa.notify.channels import channel_states, inbound_texts_configured
from defensa.notify.models import Channel
from defensa.voice.models import Hotline

# Without these a report reaches nobody: texts (alerts to verifiers, replies to reporters) and
# email (sign-in, the alerts of people who chose it). Signal and device notifications add to
# them and are optional.
NEEDED_CHANNELS = (Channel.SMS, Channel.EMAIL)


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass
class Line:
    key: str
    ok: bool
    title: str
    missing: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    setting: str = ""
    optional: bool = False


def _areas(committees: list[Committee]) -> Line:
    """Areas and gaps as the committees page shows them (committees.areas.area_overview)."""
    line = Line("areas", True, _("Every area has a committee"))
    if not any(c.zip_codes or c.h3_cells for c in committees):
        line.ok = False
        line.missing.append(
            _("No committee has an area yet: a report's place leads to no committee.")
        )
    for committee in committees:
        if committee.kind == Kind.LOCAL and not (committee.zip_codes or committee.h3_cells):
            line.ok = False
            line.missing.append(_("%(name)s has no ZIP codes or cells.") % {"name": committee.name})
            line.links.append(Link(reverse("network:area", args=[committee.slug]), committee.name))
    # The region is what the network and city committees cover; a ZIP of it that no local
    # committee holds reaches only a city's or the network's dispatchers.
    unclaimed = area_overview(committees).unclaimed
    if unclaimed:
        line.ok = False
        shown = ", ".join(unclaimed[:20]) + (" …" if len(unclaimed) > 20 else "")
        line.missing.append(_("ZIP codes no local committee holds: %(zips)s.") % {"zips": shown})
    if not line.ok:
        line.links.append(Link(reverse("network:index"), _("Committees and areas")))
    return line


def _people_link(committee: Committee, coordinated: set[int]) -> Link:
    """Where the committee's roles and shifts are given: its members page for one of its
    coordinators, else the committee's page in the network's set-up."""
    if committee.pk in coordinated:
        return Link(reverse("committees:members", args=[committee.slug]), committee.name)
    return Link(reverse("network:committee", args=[committee.slug]), committee.name)


def _rota(committees: list[Committee], coordinated: set[int]) -> list[Line]:
    """Dispatchers and verifiers on a shift (or on duty) this week, where reports arrive:
    every committee without sub-committees, and the top one (reports with no place)."""
    children = {c.parent_id for c in committees if c.parent_id}
    leaves = [c for c in committees if c.pk not in children]
    tops = [c for c in committees if c.parent_id is None]
    dispatch = Line("dispatchers", True, _("Every committee has a dispatcher on a shift"))
    verify = Line("verifiers", True, _("Every committee has a verifier on a shift"))
    watched = list(dict.fromkeys([*tops, *leaves]))
    dispatching = on_the_rota(watched, dispatcher=True)
    verifying = on_the_rota(leaves, skill=SkillKind.VERIFIER)
    for committee in watched:
        if committee.pk not in dispatching:
            dispatch.ok = False
            dispatch.missing.append(
                _("%(name)s: no dispatcher on duty or on a weekly shift.")
                % {"name": committee.name}
            )
            dispatch.links.append(_people_link(committee, coordinated))
        if committee in leaves and committee.pk not in verifying:
            verify.ok = False
            verify.missing.append(
                _("%(name)s: no verifier on duty or on a weekly shift.") % {"name": committee.name}
            )
            verify.links.append(_people_link(committee, coordinated))
    if not dispatch.ok:
        dispatch.missing.append(
            _(
                "A committee's coordinators make someone a dispatcher, and people set their own "
                "shifts, on the committee's Members page and My shifts."
            )
        )
    if not verify.ok:
        verify.missing.append(
            _(
                "A committee's coordinators give the verifier skill on its Members page; "
                "verifiers set their own shifts on My shifts."
            )
        )
    return [dispatch, verify]


def _channels() -> list[Line]:
    lines = []
    page = Link(reverse("notify:channels"), _("Channels"))
    for state in channel_states():
        needed = state.channel in NEEDED_CHANNELS
        line = Line(
            f"channel-{state.channel}",
            state.configured,
            _("%(channel)s is set up") % {"channel": state.label},
            links=[page],
            optional=not needed,
        )
        if not state.configured:
            line.missing.append(
                _("Messages by this channel only reach the server's log.")
                if state.log_only
                else _("No service carries this channel.")
            )
        lines.append(line)
    return lines


def _inbound() -> Line:
    line = Line(
        "inbound",
        inbound_texts_configured(),
        _("Texts sent to your numbers reach Defensa"),
        links=[Link(reverse("notify:channels"), _("Channels"))],
        setting="TWILIO_WEBHOOK_BASE_URL",
    )
    if not line.ok:
        line.missing.append(
            _("Reports by text, and verifiers' answers by text, are refused before they arrive.")
        )
    return line


def _numbers() -> Line:
    line = Line(
        "numbers",
        Hotline.objects.filter(committee__archived_at__isnull=True).exists(),
        _("Your phone numbers belong to committees"),
        links=[Link(reverse("voice:numbers"), _("Phone numbers"))],
    )
    if not line.ok:
        line.missing.append(
            _(
                "No number belongs to a committee: calls ring nobody, and texts with no usable "
                "place go to the top committee."
            )
        )
    return line


def _keys() -> list[Line]:
    backup = Line(
        "backup",
        bool(settings.BACKUP_RECIPIENTS),
        _("Backups have a key to be encrypted to"),
        setting="DEFENSA_BACKUP_RECIPIENTS",
    )
    if not backup.ok:
        backup.missing.append(
            _("No backup key: backups cannot be made, and a lost disk loses everything.")
        )
    problem = master_key_problem()
    master = Line(
        "master_key",
        not problem,
        _("The master key is kept off the data disk"),
        setting="DEFENSA_MASTER_KEYS_FILE",
    )
    if problem:
        master.missing.append(
            _("Whoever takes the data disk also finds the key that opens what is sealed on it.")
        )
    return [backup, master]


def _passkeys() -> Line:
    line = Line(
        "passkey",
        User.objects.filter(is_network_admin=True, is_active=True, passkeys__isnull=False).exists(),
        _("An admin signs in with a passkey"),
        links=[Link(reverse("accounts:security"), _("Sign-in and security"))],
    )
    if not line.ok:
        line.missing.append(
            _("No network admin has a passkey: a stolen password and code open everything.")
        )
    return line


def checklist(viewer: Any) -> list[Line]:
    """Every line, done or not, with links `viewer` can open."""
    # Archived committees take no reports: nothing about them stands in the way.
    committees = list(Committee.objects.filter(archived_at__isnull=True).order_by("name"))
    coordinated = set(committees_for(viewer, "coordinator").values_list("pk", flat=True))
    return [
        _areas(committees),
        *_rota(committees, coordinated),
        *_channels(),
        _inbound(),
        _numbers(),
        *_keys(),
        _passkeys(),
    ]


def left_to_do(lines: list[Line]) -> int:
    return sum(1 for line in lines if not line.ok and not line.optional)
