"""receive_report(): the one door every intake channel goes through."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection
from django.utils import timezone

from defensa.audit.reveals import RevealQuota as RevealQuota  # re-exported for the views
from defensa.audit.reveals import record_reveal
from defensa.committees.models import Committee
from defensa.core import crypto, geo, media
from defensa.core.groupcommit import GroupCommit
from defensa.evidence.photos import CleanPhoto
from defensa.evidence.store import save_media
from defensa.evidence.video import CleanVideo
from defensa.incidents import grouping, triage
from defensa.incidents.areas import committee_for, top_committee
from defensa.incidents.codes import new_code
from defensa.incidents.models import Category, Incident, TimelineAction
from defensa.incidents.timeline import add_entry
from defensa.reports.models import Channel, LocationKind, Photo, Report

# PostgreSQL: reports are grouped one at a time, so two reports of one raid arriving in the
# same instant cannot both open a new incident. SQLite serialises writers already
# (transaction_mode=IMMEDIATE). The audit chain takes a lock of its own at the end. Taken
# once per transaction of the group commit below, before the reports queued behind it join.
_PG_INTAKE_LOCK = 0x0DEF_E5A1


def _intake_locked() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_INTAKE_LOCK])


_INTAKE = GroupCommit(locked=_intake_locked)

# Typical uncertainty when the channel tells us how the place was given but not how well.
DEFAULT_PRECISION_M = {
    LocationKind.GPS: 50,
    LocationKind.PIN: 50,
    LocationKind.CROSS_STREETS: 200,
}
MAX_COUNT = 9999
# A new incident's and report's reference codes are drawn at random (~1e9 codes) and checked
# by their unique constraints; a collision runs the write again with new codes.
_ATTEMPTS = 3
TEXT_LIMITS = {"location_text": 200, "agency": 60, "description": 2000, "contact": 100}


class InvalidReport(ValueError):
    """The data cannot make a report. The message says which field and why (in English)."""


@dataclass(frozen=True)
class Received:
    """What receive_report() did: the report, whether this call stored it (False for a retry
    of a key already stored), and how many photos and videos the report holds."""

    report: Report
    created: bool
    photos: int
    videos: int
    # The file store could not be reached: the report was kept without its photos and
    # videos, and the reporter is told.
    files_lost: bool = False


@dataclass(frozen=True)
class CleanReport:
    category: str
    lat: float | None
    lon: float | None
    precision_m: int | None
    location_kind: str
    location_text: str
    zip_code: str
    observed_at: dt.datetime
    agents: int | None
    vehicles: int | None
    agency: str
    description: str
    language: str
    contact: str = ""  # optional way to call the reporter back; stored only encrypted

    def sighting(self) -> grouping.Sighting:
        located = self.lat is not None and self.lon is not None
        return grouping.Sighting(
            lat=self.lat,
            lon=self.lon,
            radius_m=grouping.clamp_precision(self.precision_m) if located else None,
            observed_at=self.observed_at,
            category=self.category,
        )


def _number(data: Mapping[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidReport(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidReport(f"{name} must be a number") from exc
    if not math.isfinite(number):
        raise InvalidReport(f"{name} must be a finite number")
    return number


def _count(data: Mapping[str, Any], name: str) -> int | None:
    number = _number(data, name)
    if number is None:
        return None
    if number != int(number) or not 0 <= number <= MAX_COUNT:
        raise InvalidReport(f"{name} must be a whole number from 0 to {MAX_COUNT}")
    return int(number)


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name) or ""
    if not isinstance(value, str):
        raise InvalidReport(f"{name} must be text")
    value = value.replace("\x00", "").strip()
    limit = TEXT_LIMITS[name]
    if len(value) > limit:
        raise InvalidReport(f"{name} is longer than {limit} characters")
    return value


def clean_report_data(data: Mapping[str, Any]) -> CleanReport:
    """Check and normalise what a channel parsed. Raise InvalidReport on anything wrong."""
    category = data.get("category")
    if category not in Category.values:
        raise InvalidReport(f"category must be one of {', '.join(Category.values)}")

    zip_code = data.get("zip_code") or ""
    if not isinstance(zip_code, str) or (zip_code and not geo.is_zip_format(zip_code)):
        raise InvalidReport("zip_code must be five digits")

    lat, lon = _number(data, "lat"), _number(data, "lon")
    if (lat is None) != (lon is None):
        raise InvalidReport("lat and lon come together or not at all")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):  # type: ignore[operator]
        raise InvalidReport("lat must be within -90..90 and lon within -180..180")
    kind = data.get("location_kind") or (LocationKind.GPS if lat is not None else "")
    precision = _number(data, "precision_m")
    if precision is not None and precision < 0:
        raise InvalidReport("precision_m must not be negative")
    if lat is None:
        centre = geo.zip_centroid(zip_code) if zip_code else None
        if centre is not None:
            # Only a ZIP: its centre, with a radius of kilometres.
            lat, lon = centre
            kind, precision = LocationKind.ZIP, float(settings.ZIP_PRECISION_M)
        elif kind == LocationKind.CROSS_STREETS and data.get("location_text"):
            # Said in words only: no coordinates (nothing is geocoded) but the kind tells a
            # dispatcher there is a place to read.
            precision = None
        else:
            kind, precision = LocationKind.NONE, None
    if kind not in LocationKind.values:
        raise InvalidReport(f"location_kind must be one of {', '.join(LocationKind.values)}")
    if lat is not None and precision is None:
        precision = float(DEFAULT_PRECISION_M.get(kind, settings.ZIP_PRECISION_M))

    observed_at = data.get("observed_at") or timezone.now()
    if not isinstance(observed_at, dt.datetime) or timezone.is_naive(observed_at):
        raise InvalidReport("observed_at must be a date and time with a time zone")

    language = data.get("language") or settings.LANGUAGE_CODE
    if language not in {code for code, _ in settings.LANGUAGES}:
        raise InvalidReport("language is not one this network speaks")

    return CleanReport(
        category=category,
        lat=lat,
        lon=lon,
        precision_m=min(int(math.ceil(precision)), 2**31 - 1) if precision is not None else None,
        location_kind=kind,
        location_text=_text(data, "location_text"),
        zip_code=zip_code,
        observed_at=observed_at,
        agents=_count(data, "agents"),
        vehicles=_count(data, "vehicles"),
        agency=_text(data, "agency"),
        description=_text(data, "description"),
        language=language,
        contact=_text(data, "contact"),
    )


def key_digest(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()


def receive_report(
    data: Mapping[str, Any],
    *,
    channel: str,
    actor: Any = None,
    idempotency_key: str,
    photos: Sequence[CleanPhoto] = (),
    videos: Sequence[CleanVideo] = (),
    committee: Committee | None = None,
    burst: bool = False,
) -> Received:
    """Store a report and group it into an incident, in one atomic write.

    Under a surge the write may share its transaction with other reports of this process
    that queued for the write lock at the same moment (group commit, in a savepoint of its
    own: defensa/core/groupcommit.py); it returns only once committed, either way.

    A new incident goes to the committee whose area holds the place; without a usable place
    (or outside every area) to `committee` (the one that owns the number the report came in
    on), else to the network's top committee: every report reaches some dispatcher.

    A retry with the same idempotency key returns the report stored the first time (with
    `created` False) and changes nothing. Raises InvalidReport (and writes nothing) when the
    data is wrong.

    `burst`: the channel saw many posts from the same source at once (its flood control's
    in-memory count): triage counts the report, but not as an independent one.
    """
    if channel not in Channel.values:
        raise InvalidReport(f"channel must be one of {', '.join(Channel.values)}")
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= 200:
        raise InvalidReport("idempotency_key must be 8 to 200 characters")
    digest = key_digest(idempotency_key)
    existing = _existing(digest)
    if existing is not None:
        return _again(existing)
    clean = clean_report_data(data)
    # Read before the write transaction: the write lock is held by one request at a time, so
    # what can be read outside it is (SQLite in WAL mode reads without it).
    words = triage.text_digest(clean.description)
    same_words = _same_words(words)
    # Whose queue a new incident would go to, also read before the write (an ORM read of
    # every committee's area and the top committee: ~1 ms of CPU that held the write lock),
    # but only when the report looks like it will open one: most reports of a surge join an
    # incident and never use it. Grouping itself is decided inside the write; there the
    # committee is only confirmed (_confirmed), or read after all when the incident this
    # report would have joined closed in the meantime (rare).
    sighting = clean.sighting()
    home = _home_for(clean, committee) if grouping.find_incident(sighting) is None else None
    files_lost = False
    for attempt in range(1, _ATTEMPTS + 1):
        written: list[str] = []
        try:
            # Reports of this process that queue for the write lock together are committed
            # in one transaction, each in a savepoint (defensa/core/groupcommit.py).
            return _INTAKE.run(
                functools.partial(
                    _store,
                    clean,
                    channel=channel,
                    actor=actor,
                    digest=digest,
                    photos=photos,
                    videos=videos,
                    written=written,
                    committee=committee,
                    burst=burst,
                    files_lost=files_lost,
                    words=words,
                    same_words=same_words,
                    sighting=sighting,
                    home=home,
                )
            )
        except media.StoreUnavailable:
            # The file store is down: the report matters more than its files. Nothing of
            # them stays (the rows went with the transaction); store the report again without
            # them, and the receipt tells the reporter to send them again later.
            media.remove(written)
            for video in videos:
                video.path.unlink(missing_ok=True)
            if files_lost:
                raise  # pragma: no cover - a report without files writes no file
            files_lost, photos, videos = True, (), ()
            continue
        except IntegrityError:
            media.remove(written)
            # The same key committed by a concurrent request: that report is the answer.
            existing = _existing(digest)
            if existing is not None:
                return _again(existing)
            # Otherwise a new reference code was already taken (the unique constraints are
            # the check: no lookup per code). That happens before any file is written or
            # moved, so the whole write can run again with new codes; anything else is real.
            if written or attempt == _ATTEMPTS:
                raise
        except BaseException:
            # Nothing committed, so no file may stay behind either.
            media.remove(written)
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _home_for(
    clean: CleanReport, fallback: Committee | None
) -> tuple[Committee | None, Committee | None]:
    """The committee whose area holds the place (or None), and the one a new incident of
    this report goes to: that area's, else `fallback` (the number's owner), else the
    network's top committee."""
    area = committee_for(clean.lat, clean.lon, clean.zip_code)
    return area, area or fallback or top_committee()


def _confirmed(
    home: tuple[Committee | None, Committee | None],
    clean: CleanReport,
    fallback: Committee | None,
) -> tuple[Committee | None, Committee | None]:
    """`home` (read before the write) if its committee is still there and not archived; else
    read again, inside the write. One indexed lookup in SQL: a committee archived in the
    instant between the read and the write must not be given a new incident nobody watches
    (archiving checks for open incidents inside its own write)."""
    chosen = home[1]
    if chosen is None:
        # No committee at all a moment ago (a new install): nothing to confirm.
        return home
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {Committee._meta.db_table} "  # noqa: S608 (our own table)
            "WHERE id = %s AND archived_at IS NULL",
            [chosen.pk],
        )
        if cursor.fetchone() is None:
            return _home_for(clean, fallback)
    return home


def _existing(digest: str) -> Report | None:
    """The report stored under this key, if any.

    Every submission asks this first and most are new, so the question is one indexed
    lookup of the id (an ORM query costs ~30 times SQLite's own work here); the whole row
    is read only for a retry.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Report._meta.db_table} WHERE idempotency_key = %s",  # noqa: S608
            [digest],
        )
        row = cursor.fetchone()
    return Report.objects.get(pk=row[0]) if row else None


def _again(report: Report) -> Received:
    """A retry: the report stored the first time, with what that first submission stored."""
    return Received(report, False, report.photos.count(), report.media.count())  # type: ignore[attr-defined]


def _store(
    clean: CleanReport,
    *,
    channel: str,
    actor: Any,
    digest: str,
    photos: Sequence[CleanPhoto],
    videos: Sequence[CleanVideo],
    written: list[str],
    committee: Committee | None,
    burst: bool,
    files_lost: bool,
    words: str,
    same_words: tuple[bool, list[tuple[int, int]]],
    sighting: grouping.Sighting,
    home: tuple[Committee | None, Committee | None] | None,
) -> Received:
    recycled, earlier = same_words
    arrival = triage.Arrival(
        channel=channel,
        media=len(photos) + len(videos),
        vouched=actor is not None,
        precise=clean.location_kind in (LocationKind.GPS, LocationKind.PIN)
        and clean.precision_m is not None
        and clean.precision_m <= triage.PRECISE_M,
        recycled=recycled,
        burst=burst,
    )
    incident_id = grouping.find_incident(sighting)
    if incident_id is None:
        incident = grouping.new_incident_for(sighting)
        incident.reference = new_code()
        if home is None:
            # It looked like joining an incident a moment ago, before the write.
            area, incident.committee = _home_for(clean, committee)
        else:
            area, incident.committee = _confirmed(home, clean, committee)
        # A place no committee covers: typical of a campaign's made-up addresses.
        incident.outside_area = area is None and clean.lat is not None
        flood = triage.in_flood_mode(incident.committee_id)
        triage.count_report(incident, arrival, flood=flood, opened=True)
        incident.save()
        opened = True
    else:
        incident = Incident.objects.get(pk=incident_id)
        changed = grouping.absorb(incident, sighting)
        changed += triage.count_report(incident, arrival, flood=False, opened=False)
        incident.save(update_fields=changed)
        opened = False
    report = Report.objects.create(
        text_digest=words,
        recycled=arrival.recycled,
        burst=burst,
        reference=new_code(),
        channel=channel,
        category=clean.category,
        lat=clean.lat,
        lon=clean.lon,
        precision_m=clean.precision_m,
        location_kind=clean.location_kind,
        location_text=clean.location_text,
        zip_code=clean.zip_code,
        observed_at=clean.observed_at,
        agents=clean.agents,
        vehicles=clean.vehicles,
        agency=clean.agency,
        description=clean.description,
        language=clean.language,
        idempotency_key=digest,
        incident=incident,
    )
    if clean.contact:
        # Sealed under the report's own data key; the pk is in the ciphertext's AAD.
        crypto.seal(report, "contact", clean.contact)
        report.save(update_fields=["contact", "data_key"])
    for photo in photos:
        Photo.objects.create(
            report=report,
            file=media.put("reports", "jpg", photo.data, written=written),
            original_sha256=photo.original_sha256,
            sha256=photo.sha256,
            width=photo.width,
            height=photo.height,
        )
    stored = save_media(report=report, videos=videos, written=written)
    # The first report with these words is seen to be one of many only now. Its incident is
    # read here, inside the write, not with the words: it may have changed since.
    for first_pk, first_incident in earlier:
        Report.objects.filter(pk=first_pk).update(recycled=True)
        if first_incident == incident.pk:
            triage.recount(incident)
        else:
            triage.recount(Incident.objects.get(pk=first_incident))
    add_entry(
        incident,
        TimelineAction.OPENED if opened else TimelineAction.REPORT_ADDED,
        actor=actor,
        detail={"report": report.pk},
        audit_action="reports.received",
        audit_obj=report,
        channel=channel,
        opened=opened,
        photos=len(photos),
        videos=len(videos),
        # Sealed in the chain: a stored file or its recorded digest changed later is found.
        sha256=[p.sha256 for p in photos] + [m.sha256 for m in stored],
        **({"files_lost": True} if files_lost else {}),
    )
    return Received(report, True, len(photos), len(stored), files_lost)


# How far back the same words count as sent again: a campaign's texts come within hours.
SAME_WORDS_WINDOW = dt.timedelta(hours=6)


def _same_words(digest: str) -> tuple[bool, list[tuple[int, int]]]:
    """Whether earlier reports in the window carry the same words, and the first ones of
    them not yet marked as sent again (their ids and their incidents' ids; a few at most:
    each later report marks them).

    Read before the write transaction. Two first reports of new words arriving in the same
    instant may both find none and stay unmarked until the next report with those words
    marks them both (it finds up to five unmarked).

    An index seek or two (words and time; the unmarked ones have an index of their own),
    however many reports carry the words: a campaign's text may be in thousands, and sorting
    them by time for every report took most of a report's write once a surge had run a
    minute.
    """
    if not digest:
        return False, []
    # In SQL: every new report asks, and building the two ORM queries cost a tenth of a
    # report's CPU (docs/performance.md, "Intake"). Our own table name only; values go as
    # parameters.
    since = connection.ops.adapt_datetimefield_value(timezone.now() - SAME_WORDS_WINDOW)
    table = Report._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "id", "incident_id" FROM "{table}" WHERE "created_at" >= %s '  # noqa: S608
            'AND "text_digest" = %s AND NOT "recycled" LIMIT 5',
            [since, digest],
        )
        unmarked = [(pk, incident) for pk, incident in cursor.fetchall()]
        if unmarked:
            return True, unmarked
        cursor.execute(
            f'SELECT 1 FROM "{table}" WHERE "created_at" >= %s AND "text_digest" = %s LIMIT 1',  # noqa: S608
            [since, digest],
        )
        return cursor.fetchone() is not None, []


def reveal_contact(report: Report, *, actor: Any) -> str | None:
    """The reporter's contact, for this one response; every reveal is audited and counted
    against the hourly quota (defensa.audit.reveals; RevealQuota past it).

    Returns None when the contact was shredded (its retention ran out). Callers check access
    first (defensa.reports.access).
    """
    record_reveal(
        "reports.contact",
        actor=actor,
        obj=report,
        committee=report.incident.committee_id,
    )
    try:
        return crypto.unseal(report, "contact")
    except crypto.KeyShredded:
        return None
