"""What an action did, in words, after it is done ("asked 5 verifiers: 2 speak Spanish").

The words are rendered from the timeline entry the action itself wrote (its detail holds the
counts and ids of what was created: offers, deliveries), never from a second count, so the
console cannot say something happened that did not. `consequences` says what a button will
do before it is pressed; this module says what it did. It also turns the timeline's entries
(actions, state names, ids) into words for the console.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from defensa.dispatch.models import Outcome
from defensa.dispatch.response import ALERTED_STEP
from defensa.incidents.models import State, TimelineAction


@dataclass(frozen=True)
class Said:
    text: str
    warn: bool = False  # said louder: something that should have happened did not


def language_name(code: str) -> str:
    names = {
        "en": pgettext("spoken language, inside a sentence", "English"),
        "es": pgettext("spoken language, inside a sentence", "Spanish"),
    }
    return names.get(code, code)


def of_offers(detail: Mapping[str, Any]) -> Said:
    """After a verification request: how many were asked, how many speak the reports'
    languages; or that nobody on duty could be asked."""
    asked = int(detail.get("asked", len(detail.get("offers") or [])))
    if not asked:
        return Said(_("Nobody on duty could be asked: call someone."), warn=True)
    text = ngettext("Asked %(count)d verifier", "Asked %(count)d verifiers", asked) % {
        "count": asked
    }
    speak = detail.get("speak") or {}
    if isinstance(speak, Mapping) and speak:
        parts = [
            ngettext(
                "%(count)d speaks %(language)s",
                "%(count)d speak %(language)s",
                int(count),
            )
            % {"count": int(count), "language": language_name(str(code))}
            for code, count in sorted(speak.items())
        ]
        text = _("%(asked)s: %(languages)s.") % {"asked": text, "languages": ", ".join(parts)}
    else:
        text = _("%(asked)s.") % {"asked": text}
    wanted = int(detail.get("wanted", asked))
    if asked < wanted:
        # What did not happen, and why: fewer on duty than the committee asks for.
        text = " ".join(
            [
                text,
                ngettext(
                    "The committee asks %(count)d; nobody else on duty could be asked.",
                    "The committee asks %(count)d; nobody else on duty could be asked.",
                    wanted,
                )
                % {"count": wanted},
            ]
        )
    return Said(text)


def of_alerts(detail: Mapping[str, Any]) -> list[Said]:
    """After a confirmation: who was alerted, and what did not happen and why."""
    legal = int(detail.get("legal", 0))
    members = int(detail.get("members", 0))
    public_page = bool(detail.get("public_page"))
    said = [
        Said(
            _(
                "Alerted: legal team on call: %(legal)d · members: %(members)d"
                " · public page: %(page)s."
            )
            % {
                "legal": legal,
                "members": members,
                "page": _("on") if public_page else _("off"),
            }
        )
    ]
    neighbours = int(detail.get("subscribers", 0))
    if neighbours:
        said.append(
            Said(
                ngettext(
                    "%(count)d alert subscriber near the place was alerted by text.",
                    "%(count)d alert subscribers near the place were alerted by text.",
                    neighbours,
                )
                % {"count": neighbours}
            )
        )
    if not legal:
        said.append(
            Said(
                _(
                    "Nobody of the legal team was on call, so no legal observer or attorney"
                    " was alerted: call one."
                ),
                warn=True,
            )
        )
    if not members:
        if detail.get("no_area"):
            said.append(
                Said(_("No member was alerted: the incident has no place yet. Place it first."))
            )
        else:
            said.append(Said(_("No member was alerted: nobody asked for alerts in this area.")))
    unreachable = int(detail.get("unreachable", 0))
    if unreachable:
        said.append(
            Said(
                ngettext(
                    "%(count)d person could not be reached: they have no way to be contacted.",
                    "%(count)d people could not be reached: they have no way to be contacted.",
                    unreachable,
                )
                % {"count": unreachable},
                warn=True,
            )
        )
    if not public_page:
        said.append(
            Said(_("The public page does not show it: the committee has not turned the page on."))
        )
    return said


def _first_name(name: str) -> str:
    return (name.split() or [""])[0]


def _label(choices: Any, value: object) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def describe(entry: Any, references: Mapping[int, str]) -> dict[str, Any]:
    """One timeline entry in words: {"what": a sentence, "said": [Said] after an action}."""
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    name = _first_name(entry.actor.display_name) if entry.actor else ""
    step = detail.get("step")
    said: list[Said] = []
    named = False  # the sentence already says who
    if step == "offer_accepted":
        what, named = _("%(name)s accepted") % {"name": name or _("A verifier")}, True
    elif step == "responder_arrived":
        what, named = _("%(name)s arrived") % {"name": name or _("A verifier")}, True
    elif step == "finding":
        what = _("%(name)s's finding: %(finding)s") % {
            "name": name or _("A verifier"),
            "finding": _label(Outcome, detail.get("finding", "")),
        }
        named = True
        if detail.get("awaits_dispatcher"):
            what = _("%(what)s (waits for a dispatcher's verdict)") % {"what": what}
    elif step == "member_message":
        what = _("%(name)s sent a text message") % {"name": name or _("A verifier")}
        named = True
    elif step == "offer_widened":
        what = _("More verifiers asked")
        said.append(of_offers(detail))
    elif step == ALERTED_STEP:
        what = _("Alerts sent")
        said.extend(of_alerts(detail))
    elif entry.action == TimelineAction.STATE_CHANGED:
        what = _("State: %(state)s") % {"state": _label(State, detail.get("to", ""))}
        if "finding" in detail:
            what = _("%(what)s, from %(name)s's finding") % {
                "what": what,
                "name": name or _("a verifier"),
            }
            named = True
        if "offers" in detail:
            said.append(of_offers(detail))
    elif entry.action == TimelineAction.OPENED and "report" in detail:
        what = _("Opened from report %(ref)s") % {"ref": references.get(detail["report"], "—")}
    elif entry.action == TimelineAction.REPORT_ADDED and "report" in detail:
        what = _("Report %(ref)s joined") % {"ref": references.get(detail["report"], "—")}
    else:
        what = entry.get_action_display()
    if detail.get("media"):
        count = len(detail["media"])
        what = ngettext(
            "%(what)s, with %(count)d photo or video",
            "%(what)s, with %(count)d photos or videos",
            count,
        ) % {"what": what, "count": count}
    return {"entry": entry, "what": what, "who": "" if named else name, "said": said}


def timeline(entries: Iterable[Any], references: Mapping[int, str]) -> list[dict[str, Any]]:
    return [describe(entry, references) for entry in entries]
