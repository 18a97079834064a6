"""Which places a signed-in person has: the links of My page, computed from the access helpers.

My page (`accounts:home`) shows one section per role the person holds, each with the pages
of that role, one tap away. The list is computed here, from the same access helpers the
pages themselves call to decide whether to answer or 404, so My page cannot offer a page that
would refuse the person, nor forget one they may open. `pages` sits above the domain apps
(it is the one app, with the demo seed, that may read all their access helpers), and
`accounts` reaches this through the `{% my_places %}` tag without importing it.

A test walks from each persona's My page by links only and checks that every page the persona
may see is reached (defensa/pages/tests/test_places.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from defensa.accompaniment import access as accompaniment_access
from defensa.committees.access import committees_for, memberships_for
from defensa.incidents.access import EVIDENCE_ROLES
from defensa.organising import access as organising_access
from defensa.record.access import FIGURES_ROLES
from defensa.reports.access import OPERATOR_ROLES
from defensa.trees import access as trees_access


@dataclass(frozen=True)
class Place:
    label: str
    url: str
    note: str = ""


@dataclass
class Section:
    title: str
    places: list[Place] = field(default_factory=list)


def _can_see_deliveries(user: Any) -> bool:
    # The same rule as notify.access.deliveries_for: admins, and coordinators (of any
    # committee; a city coordinator sees the locals below it too).
    return bool(user.is_network_admin) or memberships_for(user, "coordinator").exists()


def _operator_places() -> list[Place]:
    return [
        Place(
            _("Type a report from a call"),
            reverse("reports:operator"),
            _("the hotline operator's form"),
        ),
        Place(
            _("Incidents from your calls"),
            reverse("reports:operator_incidents"),
            _("where the reports you typed went, and their state"),
        ),
    ]


def places_for(user: Any) -> list[Section]:
    """My page's sections for `user`, in order: their roles first, then their own things."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    sections: list[Section] = []

    dispatching = [m.committee for m in memberships_for(user, "dispatcher")]
    if dispatching:
        section = Section(_("Dispatch"))
        for c in dispatching:
            section.places.append(
                Place(
                    _("Dispatch console: %(name)s") % {"name": c.name},
                    reverse("dispatch:console", args=[c.slug]),
                    _("the queue of incidents, verification and verdicts"),
                )
            )
        section.places += _operator_places()
        for c in dispatching:
            section.places.append(
                Place(
                    _("Emergency plans: %(name)s") % {"name": c.name},
                    reverse("plans:search", args=[c.slug]),
                    _("trigger a member's plan during a call"),
                )
            )
        sections.append(section)
    elif memberships_for(user, OPERATOR_ROLES).exists():
        # Intake without alert power: the form and their own calls' incidents, nothing else.
        sections.append(Section(_("Intake"), _operator_places()))

    archives = list(committees_for(user, EVIDENCE_ROLES))
    counted = list(committees_for(user, FIGURES_ROLES))
    if archives or counted:
        sections.append(
            Section(
                _("The record"),
                [
                    Place(
                        _("Incident archive: %(name)s") % {"name": c.name},
                        reverse("record:archive", args=[c.slug]),
                        _("every incident, closed and merged too; filters and CSV"),
                    )
                    for c in archives
                ]
                + [
                    Place(
                        _("Figures: %(name)s") % {"name": c.name},
                        reverse("record:figures", args=[c.slug]),
                        _("reports, verdicts, times and alerts over time, committees below too"),
                    )
                    for c in counted
                ],
            )
        )

    legal = list(committees_for(user, "legal"))
    accompanier = accompaniment_access.is_accompanier(user)
    if legal or accompanier:
        section = Section(_("Legal team") if legal else _("Accompaniment"))
        if legal:
            section.places.append(
                Place(
                    _("Cases"),
                    reverse("cases:list"),
                    _("the legal team's cases of detained people"),
                )
            )
        section.places.append(
            Place(
                _("Accompaniment"),
                reverse("accompaniment:index"),
                _("court and ICE check-in appointments"),
            )
        )
        for c in legal:
            section.places.append(
                Place(
                    _("Accompaniment calendar: %(name)s") % {"name": c.name},
                    reverse("accompaniment:calendar", args=[c.slug]),
                    _("appointments and who goes with each person"),
                )
            )
        sections.append(section)

    organising = list(organising_access.organiser_committees(user))
    if organising:
        section = Section(_("Organising"))
        section.places.append(
            Place(
                _("Workplaces and structure tests"),
                reverse("organising:index"),
                _("workers, assessments, and who took part"),
            )
        )
        sections.append(section)

    coordinating = [m.committee for m in memberships_for(user, "coordinator")]
    for c in coordinating:
        section = Section(_("Coordinate: %(name)s") % {"name": c.name})
        section.places += [
            Place(_("Members"), reverse("committees:members", args=[c.slug])),
            Place(_("Invitations"), reverse("committees:invitations", args=[c.slug])),
            Place(
                _("Bring people in"),
                reverse("people:home", args=[c.slug]),
                _("import a spreadsheet, invite many at once, export members"),
            ),
            Place(_("Broadcasts"), reverse("broadcasts:index", args=[c.slug])),
            Place(_("Votes"), reverse("votes:index"), _("secret ballots of the members")),
            Place(_("Role requests"), reverse("committees:role_requests", args=[c.slug])),
            Place(
                _("Set up"),
                reverse("network:committee", args=[c.slug]),
                _("area, committees below, dispatch policy"),
            ),
            Place(
                _("Shift roster"),
                reverse("committees:roster", args=[c.slug]),
                _("the week by hour and skill, its gaps, and swaps to approve"),
            ),
            Place(
                _("Who is on now"),
                reverse("committees:on_now", args=[c.slug]),
                _("each skill's head count right now"),
            ),
            Place(
                _("Account recovery"),
                reverse("committees:recovery_requests", args=[c.slug]),
                _("members who lost their password or phone"),
            ),
            Place(
                _("Public page"),
                reverse("record:public_page", args=[c.slug]),
                _("whether the public page lists this committee's verified incidents"),
            ),
            Place(
                _("Readiness"),
                reverse("organising:readiness", args=[c.slug]),
                _("workplaces covered, share assessed, leaders, the last structure test"),
            ),
            Place(
                _("Phone trees"),
                reverse("trees:index"),
                _("captains and their groups, cascades, drills and their figures"),
            ),
        ]
        if c.parent_id is None:
            section.places.append(
                Place(
                    _("Organising scale"),
                    reverse("organising:scale", args=[c.slug]),
                    _("the assessment scale's words, and how long contacts are kept"),
                )
            )
        sections.append(section)
    if _can_see_deliveries(user):
        sections.append(
            Section(
                _("Messages"),
                [
                    Place(
                        _("Messages sent"),
                        reverse("notify:deliveries"),
                        _("every alert and message, and the ones that failed"),
                    )
                ],
            )
        )

    if user.is_network_admin:
        sections.append(
            Section(
                _("Network"),
                [
                    Place(
                        _("Committees and areas"),
                        reverse("network:index"),
                        _("create and nest committees, their areas and dispatch policies"),
                    ),
                    Place(
                        _("Audit log"),
                        reverse("record:audit_log"),
                        _("every audited action, as stored: ids and action names"),
                    ),
                    Place(
                        _("Figures: the whole network"),
                        reverse("record:network_figures"),
                        _("reports, verdicts, times and alerts over time, for every committee"),
                    ),
                    Place(
                        _("Administrators' account recovery"),
                        reverse("recover:admin_requests"),
                        _("other network administrators who lost their password or phone"),
                    ),
                ],
            )
        )

    mine = Section(_("For you"))
    has_membership = memberships_for(user).exists()
    mine.places.append(
        Place(
            _("My alerts"),
            reverse("dispatch:alerts"),
            _("confirmed raids in the neighbourhoods you choose"),
        )
    )
    if has_membership:
        mine.places.append(
            Place(
                _("My committees"),
                reverse("committees:list"),
                _("announcements, and new people to vouch for"),
            )
        )
        mine.places.append(
            Place(
                _("Strike funds"),
                reverse("funds:index"),
                _("what your committees' funds hold, and applying for help"),
            )
        )
        mine.places.append(
            Place(
                _("Events"),
                reverse("events:index"),
                _("protests, pickets, trainings and meetings: RSVP, shifts, check-in"),
            )
        )
        mine.places.append(
            Place(
                _("My emergency plan"),
                reverse("plans:mine"),
                _("who to tell and what to do if you are detained"),
            )
        )
    if organising_access.own_workers_for(user).exists():
        mine.places.append(
            Place(
                _("My organising history"),
                reverse("organising:my_history"),
                _("how you were assessed, and the actions you took part in"),
            )
        )
    for duty in trees_access.duties_for(user).filter(cascade__ended_at__isnull=True):
        mine.places.append(
            Place(
                _("My group in the phone tree"),
                reverse("trees:captain", args=[duty.cascade_id]),
                _("a cascade is running: reach your group and confirm it"),
            )
        )
    mine.places += [
        Place(_("My shifts"), reverse("me:availability"), _("on duty, and your weekly shifts")),
        Place(_("My skills"), reverse("me:skills"), _("skills and trainings")),
        Place(
            _("My settings"),
            reverse("me:index"),
            _("language, messages, skills, area, on duty and shifts"),
        ),
        Place(
            _("My calendar link"),
            reverse("accompaniment:my_calendar"),
            _("your accompaniments and events in your phone's calendar"),
        ),
        Place(
            _("Sign-in and security"),
            reverse("accounts:security"),
            _("passkeys, authenticator app, password"),
        ),
    ]
    sections.append(mine)
    return sections
