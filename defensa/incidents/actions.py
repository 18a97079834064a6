"""Incident actions: each atomic, each a timeline entry sealed by one audit record."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from defensa.audit import log
from defensa.incidents import grouping, triage
from defensa.incidents.codes import new_code
from defensa.incidents.models import FloodMode, Incident, State, TimelineAction, TimelineEntry
from defensa.incidents.timeline import add_entry


def change_state(incident: Incident, state: str, *, actor: Any, note: str = "") -> TimelineEntry:
    """Move an incident to a new state (raising IllegalTransition when it may not)."""
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        old = locked.move_to(state)
        locked.updated_at = timezone.now()
        _restate(locked)
        locked.save(update_fields=["state", "updated_at", "held", "triage_rank"])
        incident.state, incident.updated_at = locked.state, locked.updated_at
        incident.held, incident.triage_rank = locked.held, locked.triage_rank
        return add_entry(
            locked,
            TimelineAction.STATE_CHANGED,
            actor=actor,
            note=note,
            detail={"from": old, "to": state},
            audit_action="incidents.state_changed",
            old=old,
            new=state,
        )


def _restate(incident: Incident) -> None:
    """A state changed: triage ranks it again; someone has looked at it, so it is held no
    longer."""
    incident.held = incident.held and triage.single_web(incident)
    incident.triage_rank = triage.rank(incident)


def add_note(incident: Incident, note: str, *, actor: Any) -> TimelineEntry:
    """Add a dispatcher's or verifier's note to the timeline."""
    with transaction.atomic():
        return add_entry(
            incident, TimelineAction.NOTE, actor=actor, note=note, audit_action="incidents.note"
        )


# Verification findings (dispatch). Each is one state change, one timeline entry, one audit
# record; `detail` carries ids only (e.g. {"offer": 7}) so the timeline says whose finding it was.


def _sealable(value: Any) -> bool:
    """Ids, and lists of ids or digests (a finding's media), go into the audit record too."""
    if isinstance(value, list):
        return all(isinstance(v, int | str) and not isinstance(v, bool) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


def _verdict(
    incident: Incident,
    state: str,
    *,
    actor: Any,
    note: str,
    audit_action: str,
    detail: dict[str, Any] | None = None,
) -> TimelineEntry:
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        old = locked.move_to(state)
        locked.updated_at = timezone.now()
        _restate(locked)
        locked.save(update_fields=["state", "updated_at", "held", "triage_rank"])
        incident.state, incident.updated_at = locked.state, locked.updated_at
        incident.held, incident.triage_rank = locked.held, locked.triage_rank
        return add_entry(
            locked,
            TimelineAction.STATE_CHANGED,
            actor=actor,
            note=note,
            detail={"from": old, "to": state, **(detail or {})},
            audit_action=audit_action,
            old=old,
            new=state,
            **{k: v for k, v in (detail or {}).items() if _sealable(v)},
        )


def start_verification(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> TimelineEntry:
    """Mark an incident as being verified (verifiers have been asked to go and look)."""
    return _verdict(
        incident,
        "verifying",
        actor=actor,
        note=note,
        audit_action="incidents.start_verification",
        detail=detail,
    )


def confirm_incident(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> TimelineEntry:
    """A verifier (or a dispatcher) saw it: the incident is confirmed."""
    return _verdict(
        incident,
        "confirmed",
        actor=actor,
        note=note,
        audit_action="incidents.confirm",
        detail=detail,
    )


def mark_false_alarm(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> TimelineEntry:
    """A verifier (or a dispatcher) found it was not what was reported."""
    return _verdict(
        incident,
        "false_alarm",
        actor=actor,
        note=note,
        audit_action="incidents.false_alarm",
        detail=detail,
    )


def mark_not_found(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> TimelineEntry:
    """Nothing there when the verifier arrived: back to new, for another look or more reports."""
    return _verdict(
        incident,
        "new",
        actor=actor,
        note=note,
        audit_action="incidents.not_found",
        detail=detail,
    )


# Merge and split by hand -------------------------------------------------------------------
# Grouping is automatic and deterministic, and sometimes wrong: two incidents that are one
# raid, or one incident that is two events. A dispatcher fixes it. Each incident involved
# gets its own timeline entry (and so its own sealed audit record): each timeline must tell
# its whole story on its own, in court.


class CannotMerge(ValueError):
    """The two incidents may not be merged (the message says why, in English)."""


class CannotSplit(ValueError):
    """These reports may not be split off (the message says why, in English)."""


class CannotPlace(ValueError):
    """The incident may not be placed now (the message says why, in English)."""


_REFOLDED = [
    "category",
    "lat",
    "lon",
    "radius_m",
    "weight",
    "cell",
    "first_observed_at",
    "last_observed_at",
    "report_count",
    "updated_at",
]


def _sighting(report: Any) -> grouping.Sighting:
    located = report.lat is not None and report.lon is not None
    return grouping.Sighting(
        lat=report.lat,
        lon=report.lon,
        radius_m=grouping.clamp_precision(report.precision_m) if located else None,
        observed_at=report.observed_at,
        category=report.category,
    )


def _refold(incident: Incident, reports: list[Any]) -> None:
    """Set an incident's place, span, category and count from these reports, in memory."""
    ordered = sorted(reports, key=lambda r: (r.created_at, r.pk))
    fresh = grouping.new_incident_for(_sighting(ordered[0]))
    for report in ordered[1:]:
        grouping.absorb(fresh, _sighting(report))
    for field in _REFOLDED:
        setattr(incident, field, getattr(fresh, field))


def merge_incidents(
    keep: Incident, other: Incident, *, actor: Any, note: str = ""
) -> TimelineEntry:
    """Move every report of `other` into `keep`; `other` is closed and points to `keep`.

    Both must be of the same committee, `keep` still open, `other` neither closed nor merged.
    Returns `keep`'s timeline entry.
    """
    if keep.pk == other.pk:
        raise CannotMerge("an incident cannot be merged into itself")
    with transaction.atomic():
        # Lock in id order, so two dispatchers merging the same pair cannot deadlock.
        locked = {
            i.pk: i
            for i in Incident.objects.select_for_update()
            .filter(pk__in=[keep.pk, other.pk])
            .order_by("pk")
        }
        kept, gone = locked[keep.pk], locked[other.pk]
        if kept.committee_id != gone.committee_id:
            raise CannotMerge("incidents of different committees cannot be merged")
        if not kept.is_open or kept.merged_into_id is not None:
            raise CannotMerge("the incident to keep is no longer open")
        if gone.merged_into_id is not None or not gone.can_become(State.CLOSED):
            raise CannotMerge("the other incident is already closed")
        moved = sorted(gone.reports.values_list("pk", flat=True))  # type: ignore[attr-defined]
        gone.reports.update(incident=kept)  # type: ignore[attr-defined]
        old = gone.move_to(State.CLOSED)
        gone.merged_into = kept
        gone.report_count = 0
        gone.updated_at = timezone.now()
        gone.save(update_fields=["state", "merged_into", "report_count", "updated_at"])
        _refold(kept, list(kept.reports.all()))  # type: ignore[attr-defined]
        kept.save(update_fields=_REFOLDED)
        triage.recount(kept)
        add_entry(
            gone,
            TimelineAction.MERGED,
            actor=actor,
            detail={"into": kept.pk, "from": old, "to": State.CLOSED, "reports": moved},
            audit_action="incidents.merged_away",
            into=kept.pk,
            reports=len(moved),
        )
        entry = add_entry(
            kept,
            TimelineAction.MERGED,
            actor=actor,
            note=note,
            detail={"merged": gone.pk, "reports": moved},
            audit_action="incidents.merged",
            merged=gone.pk,
            reports=len(moved),
        )
    for field in [*_REFOLDED, "state"]:
        setattr(keep, field, getattr(kept, field))
    other.state, other.merged_into_id = gone.state, kept.pk
    return entry


def split_incident(
    source: Incident, report_ids: list[int], *, actor: Any, note: str = ""
) -> Incident:
    """Move the chosen reports of an open incident into a new incident; return the new one.

    At least one report must move and at least one must stay.
    """
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=source.pk)
        if not locked.is_open:
            raise CannotSplit("only an open incident can be split")
        chosen = list(locked.reports.filter(pk__in=report_ids))  # type: ignore[attr-defined]
        staying = list(locked.reports.exclude(pk__in=report_ids))  # type: ignore[attr-defined]
        if not chosen:
            raise CannotSplit("choose at least one report of this incident")
        if not staying:
            raise CannotSplit("at least one report must stay in the incident")
        new = Incident(reference=_unused_reference(), committee_id=locked.committee_id)
        _refold(new, chosen)
        new.save()
        moved = sorted(r.pk for r in chosen)
        locked.reports.filter(pk__in=moved).update(incident=new)  # type: ignore[attr-defined]
        _refold(locked, staying)
        locked.save(update_fields=_REFOLDED)
        triage.recount(new)
        triage.recount(locked)
        add_entry(
            new,
            TimelineAction.SPLIT,
            actor=actor,
            detail={"from": locked.pk, "reports": moved},
            audit_action="incidents.split_off",
            source=locked.pk,
            reports=len(moved),
        )
        add_entry(
            locked,
            TimelineAction.SPLIT,
            actor=actor,
            note=note,
            detail={"to": new.pk, "reports": moved},
            audit_action="incidents.split",
            new=new.pk,
            reports=len(moved),
        )
    for field in _REFOLDED:
        setattr(source, field, getattr(locked, field))
    return new


def _unused_reference() -> str:
    while True:
        code = new_code()
        if not Incident.objects.filter(reference=code).exists():
            return code


def place_incident(
    incident: Incident,
    *,
    lat: float,
    lon: float,
    precision_m: float,
    zip_code: str = "",
    actor: Any,
    note: str = "",
) -> Incident:
    """A dispatcher gives a place to an open incident that no report could place.

    The reports without a point get the dispatcher's (a ZIP's centre, or a cell's), the
    incident moves to the committee whose area holds it, and grouping runs again: when an
    open incident of that committee matches, this one is merged into it. Returns the incident
    the reports are in now. The timeline and the audit chain say who placed it, and how.
    """
    from defensa.incidents.areas import queue_for

    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if not locked.is_open or locked.merged_into_id is not None:
            raise CannotPlace("only an open incident can be placed")
        if not locked.needs_place:
            raise CannotPlace("this incident already has a place")
        unplaced = locked.reports.filter(lat__isnull=True)  # type: ignore[attr-defined]
        fields = {"lat": lat, "lon": lon, "precision_m": int(precision_m)}
        if zip_code:
            unplaced.filter(zip_code="").update(zip_code=zip_code)
        unplaced.update(**fields)
        _refold(locked, list(locked.reports.all()))  # type: ignore[attr-defined]
        before = locked.committee_id
        committee = queue_for(lat, lon, zip_code, fallback=locked.committee)
        sighting = grouping.Sighting(
            lat=lat,
            lon=lon,
            radius_m=grouping.clamp_precision(precision_m),
            observed_at=locked.last_observed_at,
            category=locked.category,
        )
        # Searched before this incident's own new cell is saved, so it cannot find itself.
        match = grouping.find_incident(sighting)
        locked.committee = committee
        locked.save(update_fields=[*_REFOLDED, "committee"])
        triage.recount(locked)
        add_entry(
            locked,
            TimelineAction.PLACED,
            actor=actor,
            note=note,
            detail={
                "by": "zip" if zip_code else "point",
                "from": before,
                "to": locked.committee_id,
            },
            audit_action="incidents.placed",
            committee_from=before,
            committee_to=locked.committee_id,
        )
        target = Incident.objects.filter(pk=match).first() if match else None
        if (
            target is not None
            and target.pk != locked.pk
            and target.committee_id == locked.committee_id
            and target.is_open
            and target.merged_into_id is None
        ):
            merge_incidents(target, locked, actor=actor, note=note)
            return target
    return locked


# Flood mode (docs/rapid-response.md) --------------------------------------------------------


def switch_flood_mode(committee: Any, *, on: bool, actor: Any) -> bool:
    """Switch a committee's flood mode on or off; return whether it changed.

    Switching it off releases every incident still held in the committee's queue: held
    reports were never hidden, only set apart.
    """
    with transaction.atomic():
        if on:
            _row, changed = FloodMode.objects.get_or_create(committee=committee)
            released = 0
        else:
            changed = bool(FloodMode.objects.filter(committee=committee).delete()[0])
            released = Incident.objects.filter(committee=committee, held=True).update(held=False)
        if changed:
            log.record(
                "incidents.flood_mode",
                actor=actor,
                obj=committee,
                committee=committee.pk,
                on=on,
                released=released,
            )
    return changed


def release_incident(incident: Incident, *, actor: Any, note: str = "") -> TimelineEntry:
    """A dispatcher moves a held incident into the main queue."""
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if not locked.held:
            raise CannotRelease("this incident is not held")
        locked.held = False
        locked.save(update_fields=["held"])
        incident.held = False
        return add_entry(
            locked,
            TimelineAction.RELEASED,
            actor=actor,
            note=note,
            audit_action="incidents.released",
        )


class CannotRelease(ValueError):
    """The incident is not held (a second dispatcher, or a report, released it first)."""
