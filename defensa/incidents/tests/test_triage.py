"""Triage: each signal, as counted on intake and said in words; the console's order and its
one-click filter; flood mode; near misses offered as "maybe the same as ..."."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from PIL import Image

from defensa.audit.models import AuditEntry
from defensa.core.testing import join, make_user, sign_in
from defensa.evidence.photos import clean_photo
from defensa.incidents import actions, triage
from defensa.incidents.models import FloodMode, Incident, State, TimelineAction
from defensa.reports.actions import receive_report
from defensa.reports.flood import gate
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)
# Boyle Heights (ZIP 90033).
HERE = (34.0505, -118.2095)


def send(  # type: ignore[no-untyped-def]
    lat: float | None = HERE[0],
    lon: float | None = HERE[1],
    *,
    words: str = "",
    channel: str = "web",
    category: str = "workplace_raid",
    precision_m: int | None = 30,
    zip_code: str = "90033",
    observed_at: dt.datetime | None = None,
    **kwargs,
):
    data = {
        "category": category,
        "zip_code": zip_code,
        "description": words or f"report number {next(_keys)} in its own words",
    }
    if observed_at is not None:
        data["observed_at"] = observed_at
    if lat is not None:
        data.update(lat=lat, lon=lon, precision_m=precision_m)
    return receive_report(
        data, channel=channel, idempotency_key=f"triage-test-{next(_keys)}", **kwargs
    ).report


def fresh(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def said(incident: Incident) -> str:
    with translation.override("en"):
        return triage.words(fresh(incident))


def photo():  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 30)).save(out, format="JPEG")
    out.seek(0)
    return clean_photo(out, too_big="too big", not_image="not an image")


@pytest.fixture
def desk(net):  # type: ignore[no-untyped-def]
    """An English-speaking dispatcher of Boyle Heights, signed in."""
    user = make_user("desk")
    join(user, net.boyle, is_dispatcher=True)
    return sign_in(Client(), user)


# --- Each signal --------------------------------------------------------------------------


def test_independent_reports_are_counted_and_said(net) -> None:  # type: ignore[no-untyped-def]
    first = send()
    assert "single unverified web report" in said(first.incident)
    second = send(HERE[0] + 0.0002, HERE[1])
    assert second.incident_id == first.incident_id
    incident = fresh(first.incident)
    assert incident.independent_count == 2
    assert "2 independent reports" in said(incident)
    assert "single unverified" not in said(incident)
    assert incident.triage_rank > fresh(send(34.03, -118.23).incident).triage_rank


def test_photos_and_videos_count(net) -> None:  # type: ignore[no-untyped-def]
    plain = send(34.03, -118.23).incident
    with_photo = send(photos=[photo()]).incident
    assert fresh(with_photo).media_count == 1
    assert "1 photo or video" in said(with_photo)
    assert "single unverified" not in said(with_photo)
    assert fresh(with_photo).triage_rank > fresh(plain).triage_rank


def test_an_operator_or_members_report_counts(net) -> None:  # type: ignore[no-untyped-def]
    typed = send(channel="operator", actor=net.dani).incident
    assert fresh(typed).vouched_count == 1
    assert "reported by a hotline operator or a member" in said(typed)
    anonymous = send(34.03, -118.23).incident
    assert fresh(typed).triage_rank > fresh(anonymous).triage_rank


def test_channels_are_counted(net) -> None:  # type: ignore[no-untyped-def]
    first = send()
    send(HERE[0] + 0.0001, HERE[1], channel="sms")
    assert "2 channels" in said(first.incident)


def test_precise_places_count_and_zip_only_does_not(net) -> None:  # type: ignore[no-untyped-def]
    precise = send().incident
    vague = send(None, None, zip_code="90022").incident
    assert fresh(precise).precise_count == 1 and fresh(vague).precise_count == 0
    assert "1 precise place" in said(precise)
    assert fresh(precise).triage_rank > fresh(vague).triage_rank


def test_a_verifiers_finding_puts_it_first(net) -> None:  # type: ignore[no-untyped-def]
    incident = send().incident
    others = [send(34.03 + i * 0.01, -118.23).incident for i in range(2)]
    for other in others:
        send(other.lat, other.lon)  # corroborated, but not confirmed
    actions.confirm_incident(incident, actor=net.dani, note="seen")
    confirmed = fresh(incident)
    assert "confirmed by a verifier or dispatcher" in said(confirmed)
    assert all(confirmed.triage_rank > fresh(o).triage_rank for o in others)


def test_the_category_counts(net) -> None:  # type: ignore[no-untyped-def]
    raid = send(category="workplace_raid").incident
    seen = send(34.03, -118.23, category="sighting").incident
    assert fresh(raid).triage_rank > fresh(seen).triage_rank


def test_copied_words_are_seen_in_every_copy_and_not_counted_as_independent(net) -> None:  # type: ignore[no-untyped-def]
    text = "ICE IS AT THE WALMART on Soto RIGHT NOW!!!"
    first = send(words=text)
    assert not Report.objects.get(pk=first.pk).recycled
    # The same words, cased and spaced differently, elsewhere.
    copy = send(34.03, -118.23, words="ice is at the walmart on soto, right now")
    assert Report.objects.get(pk=first.pk).recycled and copy.recycled
    for incident in (first.incident, copy.incident):
        assert fresh(incident).recycled_count == 1
        assert fresh(incident).independent_count == 0
        assert "1 report with words sent in other reports too" in said(incident)
    unique = send(34.06, -118.20).incident
    assert fresh(unique).triage_rank > fresh(first.incident).triage_rank
    # A copy joining a real incident does not make it look corroborated.
    send(HERE[0] + 0.0001, HERE[1], words=text)
    assert fresh(first.incident).independent_count == 0


def test_copied_words_are_found_by_an_index_seek_not_a_scan(net) -> None:  # type: ignore[no-untyped-def]
    """A campaign's text may be in thousands of reports: sorting them all by time for every
    new report took most of a report's write after a minute of surge (SQLite)."""
    if connection.vendor != "sqlite":
        pytest.skip("reads SQLite's query plans")
    text = "Agents are at the corner of First and Soto now"
    for n in range(3):
        send(34.03 + n / 100, -118.23, words=text)
    with CaptureQueriesContext(connection) as queries:
        send(34.07, -118.21, words=text)
    lookups = [q["sql"] for q in queries if '"text_digest" =' in q["sql"]]
    assert lookups
    with connection.cursor() as cursor:
        for sql in lookups:
            cursor.execute("EXPLAIN QUERY PLAN " + sql.replace("%s", "?"))
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
            assert "reports_same_words" in plan and "created_at>" in plan, plan
            assert "TEMP B-TREE" not in plan and "SCAN reports_report" not in plan, plan


def test_short_words_are_not_taken_for_copies(net) -> None:  # type: ignore[no-untyped-def]
    assert triage.text_digest("ICE!") == "" and triage.text_digest("la migra") == ""
    a, b = send(words="ICE here"), send(34.03, -118.23, words="ICE here")
    assert not a.recycled and not b.recycled


def test_a_burst_from_one_source_is_counted_not_as_independent(net) -> None:  # type: ignore[no-untyped-def]
    report = send(burst=True)
    incident = fresh(report.incident)
    assert report.burst and incident.burst_count == 1 and incident.independent_count == 0
    assert "1 report from a source that sent many at once" in said(incident)


def test_the_web_form_marks_a_burst_from_its_in_memory_count_only(client) -> None:  # type: ignore[no-untyped-def]
    gate.reset()
    burst_from = 3
    for n in range(burst_from):
        token = re.search(
            r'name="token" value="([^"]+)"', client.get("/report/new/").content.decode()
        )
        response = client.post(
            "/report/new/",
            {"token": token.group(1), "category": "checkpoint", "zip_code": "90033"},  # type: ignore[union-attr]
        )
        assert response.status_code == 200
        assert Report.objects.order_by("-pk").first().burst == (n + 1 >= burst_from)  # type: ignore[union-attr]
    gate.reset()


def test_a_place_outside_every_committees_area(net) -> None:  # type: ignore[no-untyped-def]
    far = send(40.7128, -74.0060, zip_code="").incident
    assert fresh(far).outside_area
    assert "outside every committee's area" in said(far)
    assert not fresh(send().incident).outside_area


def test_merge_and_split_count_again_from_the_reports(net) -> None:  # type: ignore[no-untyped-def]
    a = send().incident
    b = send(34.03, -118.23, photos=[photo()]).incident
    actions.merge_incidents(fresh(a), fresh(b), actor=net.dani)
    kept = fresh(a)
    assert (kept.independent_count, kept.media_count, kept.precise_count) == (2, 1, 2)
    moved = list(kept.reports.filter(lat__lt=34.04).values_list("pk", flat=True))
    new = actions.split_incident(kept, moved, actor=net.dani)
    assert fresh(new).media_count == 1 and fresh(kept).media_count == 0
    assert fresh(new).independent_count == 1 and fresh(kept).independent_count == 1


# --- The console: order, words, filter -----------------------------------------------------


def queue_refs(client: Client, query: str = "") -> list[str]:
    html = client.get(f"/dispatch/boyle-heights/queue/{query}").content.decode()
    html = html.split('<section class="held"')[0]  # the main queue only
    return re.findall(r'\?incident=\d+">([A-Z0-9]+) ·', html)


def test_the_console_shows_the_corroborated_first_with_its_reasons(net, desk) -> None:  # type: ignore[no-untyped-def]
    tips = [send(34.03 + i * 0.004, -118.23).incident for i in range(5)]
    real = send(photos=[photo()]).incident
    send(HERE[0] + 0.0002, HERE[1])
    refs = queue_refs(desk)
    assert refs[0] == real.reference and set(refs[1:]) == {t.reference for t in tips}
    html = desk.get("/dispatch/boyle-heights/queue/").content.decode()
    assert "2 independent reports" in html and "1 photo or video" in html


def test_older_incidents_come_after_fresh_ones(net, desk) -> None:  # type: ignore[no-untyped-def]
    old = send(observed_at=timezone.now() - dt.timedelta(hours=3)).incident
    send(HERE[0] + 0.0002, HERE[1], observed_at=timezone.now() - dt.timedelta(hours=3))
    new = send(34.03, -118.23).incident
    assert queue_refs(desk) == [new.reference, old.reference]


def test_one_click_hides_single_unverified_web_reports(net, desk) -> None:  # type: ignore[no-untyped-def]
    single = send(34.03, -118.23).incident
    typed = send(channel="operator", actor=net.dani).incident
    assert set(queue_refs(desk)) == {single.reference, typed.reference}
    page = desk.get("/dispatch/boyle-heights/").content.decode()
    assert 'href="/dispatch/boyle-heights/?hide=single_web"' in page
    assert queue_refs(desk, "?hide=single_web") == [typed.reference]
    assert (
        "hide=single_web" in desk.get("/dispatch/boyle-heights/?hide=single_web").content.decode()
    )


# --- Flood mode ---------------------------------------------------------------------------


def test_flood_mode_is_switched_by_a_dispatcher_and_audited(net, desk, client_as) -> None:  # type: ignore[no-untyped-def]
    assert client_as(net.mo).post("/dispatch/boyle-heights/flood/", {"on": "1"}).status_code == 404
    assert not FloodMode.objects.exists()
    before = AuditEntry.objects.filter(action="incidents.flood_mode").count()
    assert desk.post("/dispatch/boyle-heights/flood/", {"on": "1"}).status_code == 302
    assert FloodMode.objects.filter(committee=net.boyle).exists()
    assert AuditEntry.objects.filter(action="incidents.flood_mode").count() == before + 1
    # A coordinator may switch it too.
    assert client_as(net.ana).post("/dispatch/boyle-heights/flood/", {"on": "0"}).status_code == 302
    assert not FloodMode.objects.exists()


def test_a_held_report_is_stored_grouped_visible_and_released_by_another_report(net, desk) -> None:  # type: ignore[no-untyped-def]
    actions.switch_flood_mode(net.boyle, on=True, actor=net.dani)
    first = send()
    incident = fresh(first.incident)
    assert incident.held and Report.objects.filter(pk=first.pk).exists()
    assert incident.reference not in queue_refs(desk)
    html = desk.get("/dispatch/boyle-heights/queue/").content.decode()
    assert "Held in flood mode: 1 incident from web reports nothing backs up" in html
    assert incident.reference in html
    # Still grouped: the next report of the same place joins it, and corroborates it.
    second = send(HERE[0] + 0.0002, HERE[1])
    assert second.incident_id == incident.pk
    assert not fresh(incident).held
    assert queue_refs(desk) == [incident.reference]


def test_in_flood_mode_only_single_uncorroborated_web_reports_are_held(net) -> None:  # type: ignore[no-untyped-def]
    actions.switch_flood_mode(net.boyle, on=True, actor=net.dani)
    assert fresh(send(34.03, -118.23).incident).held
    assert not fresh(send(34.06, -118.20, channel="operator", actor=net.dani).incident).held
    assert not fresh(send(34.04, -118.19, channel="sms").incident).held
    assert not fresh(send(34.035, -118.215, photos=[photo()]).incident).held
    # Another committee is not in flood mode.
    assert not fresh(send(None, None, zip_code="90022").incident).held


def test_a_dispatcher_releases_a_held_incident(net, desk) -> None:  # type: ignore[no-untyped-def]
    actions.switch_flood_mode(net.boyle, on=True, actor=net.dani)
    incident = send().incident
    response = desk.post(f"/dispatch/boyle-heights/{incident.pk}/release/")
    assert response.status_code == 302
    assert not fresh(incident).held
    assert fresh(incident).timeline.filter(action=TimelineAction.RELEASED).count() == 1
    assert AuditEntry.objects.filter(action="incidents.released").count() == 1
    assert queue_refs(desk) == [incident.reference]
    # Twice is harmless.
    assert desk.post(f"/dispatch/boyle-heights/{incident.pk}/release/").status_code == 302
    assert AuditEntry.objects.filter(action="incidents.released").count() == 1


def test_switching_flood_mode_off_releases_every_held_incident(net) -> None:  # type: ignore[no-untyped-def]
    actions.switch_flood_mode(net.boyle, on=True, actor=net.dani)
    held = [send(34.03 + i * 0.005, -118.23).incident for i in range(3)]
    assert all(fresh(i).held for i in held)
    actions.switch_flood_mode(net.boyle, on=False, actor=net.dani)
    assert not any(fresh(i).held for i in held)


def test_the_public_receipt_is_the_same_in_flood_mode(net, client) -> None:  # type: ignore[no-untyped-def]
    gate.reset()

    def receipt() -> str:
        token = re.search(
            r'name="token" value="([^"]+)"', client.get("/report/new/").content.decode()
        )
        response = client.post(
            "/report/new/",
            {"token": token.group(1), "category": "checkpoint", "zip_code": "90033"},  # type: ignore[union-attr]
        )
        assert response.status_code == 200
        ref = Report.objects.order_by("-pk").first().reference  # type: ignore[union-attr]
        html = response.content.decode().replace(ref, "REF")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    calm = receipt()
    Incident.objects.update(state=State.CLOSED)  # the next report opens an incident of its own
    actions.switch_flood_mode(net.boyle, on=True, actor=net.dani)
    flooded = receipt()
    assert Incident.objects.filter(held=True).count() == 1
    assert calm == flooded
    gate.reset()


# --- Near misses ----------------------------------------------------------------------------


def test_a_near_miss_is_offered_with_its_reason_and_merged_in_one_action(net, desk) -> None:  # type: ignore[no-untyped-def]
    raid = send(category="workplace_raid").incident
    # 150 m off, another specific category: grouping keeps them apart.
    stop = send(HERE[0] + 0.00135, HERE[1], category="vehicle_stop").incident
    assert raid.pk != stop.pk
    html = desk.get("/dispatch/boyle-heights/queue/").content.decode()
    assert f"Maybe the same as {stop.reference}" in html
    assert "same place and time, another category" in html
    form = re.search(r'action="/incidents/(\w+)/merge/".*?name="other" value="(\w+)"', html, re.S)
    assert form is not None
    keep, other = form.groups()
    response = desk.post(f"/incidents/{keep}/merge/", {"other": other, "note": "one raid"})
    assert response.status_code == 302
    kept = Incident.objects.get(reference=keep)
    assert kept.report_count == 2 and Incident.objects.get(reference=other).state == State.CLOSED
    # Reversible: split the other's report off again.
    moved = list(kept.reports.filter(category="vehicle_stop").values_list("pk", flat=True))
    actions.split_incident(kept, moved, actor=net.dani)
    assert fresh(kept).report_count == 1


def test_a_zip_only_report_near_a_precise_incident_is_suggested(net) -> None:  # type: ignore[no-untyped-def]
    from defensa.incidents import grouping

    rules = grouping.Rules.from_settings()
    at = timezone.now()
    precise = grouping.Candidate(1, 34.05, -118.21, 30.0, at, at, "workplace_raid")
    # A ZIP centre 3.5 km off: beyond grouping's reach, within the suggestion's.
    zip_only = grouping.Candidate(2, 34.0815, -118.21, 2500.0, at, at, "workplace_raid")
    assert (
        grouping.score(
            grouping.Sighting(zip_only.lat, zip_only.lon, 2500.0, at, "workplace_raid"),
            precise,
            rules,
        )
        is None
    )
    assert grouping.near_misses([precise], [zip_only], rules) == {1: (2, grouping.NEAR_ZIP_ONLY)}
    # Hours apart: not the same.
    later = grouping.Candidate(
        3,
        34.05,
        -118.2105,
        30.0,
        at + dt.timedelta(hours=3),
        at + dt.timedelta(hours=3),
        "workplace_raid",
    )
    assert grouping.near_misses([precise], [later], rules) == {}
    # A few hundred metres off, the same category: suggested.
    off = grouping.Candidate(4, 34.0535, -118.21, 30.0, at, at, "workplace_raid")
    assert grouping.near_misses([precise], [off], rules) == {1: (4, grouping.NEAR_PLACE)}
    # Across committees: never (a merge keeps to one committee).
    assert grouping.near_misses([precise], [off], rules, same_group={1: "a", 4: "b"}) == {}


def test_an_operators_report_still_counts_after_a_merge(net) -> None:  # type: ignore[no-untyped-def]
    typed = send(channel="operator", actor=net.dani).incident
    web = send(34.03, -118.23).incident
    actions.merge_incidents(fresh(web), fresh(typed), actor=net.dani)
    assert fresh(web).vouched_count == 1 and fresh(web).channels == 1 | 4
    assert "reported by a hotline operator or a member" in said(web)
