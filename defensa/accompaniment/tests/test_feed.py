"""The private calendar feed (RFC 5545, parsed back here), need to know, and form fuzzing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.accompaniment import actions, ical
from defensa.accompaniment.models import Appointment, FeedToken
from defensa.accompaniment.tests.helpers import CANARY_NAME, confirmed, court, schedule
from defensa.audit.models import AuditEntry
from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_NEEDLES, dump_database
from defensa.notify import messages
from defensa.notify.models import Delivery

pytestmark = pytest.mark.django_db

REQUIRED_EVENT = ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE")


def parse(text: str) -> list[dict[str, str]]:
    """A strict reader of what RFC 5545 asks: CRLF, <=75-octet lines, folding, nesting."""
    assert text.endswith("\r\n")
    raw = text[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in raw)
    assert all(len(line.encode("utf-8")) <= 75 for line in raw), "a line is not folded"
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    stack: list[str] = []
    components: list[dict[str, str]] = []
    for line in lines:
        name, _sep, value = line.partition(":")
        assert _sep, f"no colon in {line!r}"
        assert re.fullmatch(r"[A-Z-]+", name), name
        if name == "BEGIN":
            stack.append(value)
            components.append({"_type": value})
        elif name == "END":
            assert stack.pop() == value
        else:
            assert stack, "a property outside any component"
            current = next(c for c in reversed(components) if c["_type"] == stack[-1])
            assert name not in current or name.startswith("X-"), f"{name} twice"
            current[name] = value
    assert not stack
    return components


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def test_escaping_and_folding_by_the_rules():
    assert ical.escape_text("a,b;c\\d\ne\r\nf\x07") == "a\\,b\\;c\\\\d\\ne\\nf"
    line = "DESCRIPTION:" + "ñ" * 100
    folded = ical.fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in pieces)
    assert "".join(p[1:] if i else p for i, p in enumerate(pieces)) == line


def _feed_link(client) -> str:  # type: ignore[no-untyped-def]
    page = client.post("/accompaniment/calendar-link/", {"do": "make"}).content.decode()
    match = re.search(r'value="(https?://[^"]+\.ics)"', page)
    assert match, page
    return match.group(1).split("://", 1)[1].split("/", 1)[1]


def test_the_feed_lists_only_the_volunteers_confirmed_appointments(client_as, client, net):
    mine = schedule(net, place=court())
    confirmed(net, mine)
    schedule(net)  # not signed up: not in the feed
    pending = schedule(net)
    from django.db import transaction

    with transaction.atomic():
        actions.sign_up(pending, net.vero, actor=net.vero)
    path = "/" + _feed_link(client_as(net.vero))
    assert FeedToken.objects.count() == 1
    assert path.split("/")[-1].removesuffix(".ics") not in FeedToken.objects.get().token_hash

    client.logout()
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    components = parse(text)
    [calendar] = [c for c in components if c["_type"] == "VCALENDAR"]
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    [event] = [c for c in components if c["_type"] == "VEVENT"]
    assert all(name in event for name in REQUIRED_EVENT)
    assert event["UID"].startswith(f"accompaniment-{mine.pk}@")
    start = dt.datetime.strptime(event["DTSTART"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert start == mine.starts_at.replace(microsecond=0)
    assert (
        unescape(event["LOCATION"])
        == "Los Angeles Immigration Court (Olive St), 606 S Olive St, Los Angeles, CA 90014"
    )
    assert "\\," in event["LOCATION"]  # commas escaped
    assert "Audiencia en la corte" in unescape(event["SUMMARY"])  # vero's language
    assert event["STATUS"] == "CONFIRMED"
    for needle in (CANARY_NAME, *CANARY_NEEDLES):
        assert needle not in text
    assert "/a/" not in text  # the check-in link (a credential) stays out of calendar apps

    # Cancelled: the event stays, marked cancelled, with a higher SEQUENCE.
    actions.cancel_appointment(mine, actor=net.lucia)
    [event2] = [c for c in parse(client.get(path).content.decode()) if c["_type"] == "VEVENT"]
    assert event2["STATUS"] == "CANCELLED"
    assert int(event2["SEQUENCE"]) > int(event["SEQUENCE"])


def test_regenerating_or_revoking_kills_the_old_link(client_as, client, net):
    vero = client_as(net.vero)
    old = "/" + _feed_link(vero)
    new = "/" + _feed_link(vero)
    assert old != new
    anon = type(client)()
    assert anon.get(old).status_code == 404
    assert anon.get(new).status_code == 200
    vero.post("/accompaniment/calendar-link/", {"do": "revoke"})
    assert anon.get(new).status_code == 404
    assert FeedToken.objects.count() == 0
    actions_logged = AuditEntry.objects.filter(action__startswith="accompaniment.feed_")
    assert sorted(actions_logged.values_list("action", flat=True)) == [
        "accompaniment.feed_made",
        "accompaniment.feed_made",
        "accompaniment.feed_revoked",
    ]
    # A deactivated account's link stops too.
    link = "/" + _feed_link(vero)
    net.vero.is_active = False
    net.vero.save()
    assert anon.get(link).status_code == 404


def test_need_to_know_the_accompanied_person_never_reaches_volunteers(client_as, client, net):
    appointment = schedule(net, starts_in=dt.timedelta(hours=20))
    companion = confirmed(net, appointment)
    actions.send_reminders()
    volunteer = client_as(net.vero)
    pages = [
        volunteer.get("/accompaniment/"),
        volunteer.get(actions.checkin_path(companion)),
        volunteer.get("/" + _feed_link(volunteer)),
        volunteer.get("/me/"),
    ]
    bodies = [p.content.decode() for p in pages]
    bodies += [messages.render(d).body for d in Delivery.objects.filter(recipient=net.vero)]
    for body in bodies:
        for needle in (CANARY_NAME, CANARY_A_NUMBER, "+13235550188", *CANARY_NEEDLES):
            assert needle not in body
    # The volunteer cannot reach the legal team's pages either.
    assert volunteer.get(f"/accompaniment/c/boyle-heights/{appointment.pk}/").status_code == 404
    # The legal team sees them only after asking (audited).
    legal = client_as(net.lucia)
    page = legal.get(f"/accompaniment/c/boyle-heights/{appointment.pk}/").content.decode()
    assert CANARY_NAME not in page and CANARY_A_NUMBER not in page
    shown = legal.post(f"/accompaniment/c/boyle-heights/{appointment.pk}/reveal/").content.decode()
    assert CANARY_NAME in shown and CANARY_A_NUMBER in shown
    # At rest: ciphertext only.
    dump = "\n".join(dump_database().values())
    assert CANARY_NAME not in dump and CANARY_A_NUMBER not in dump


DAY = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)).map(str)
TEXT = st.text(max_size=40).map(lambda s: s.replace("\x00", ""))


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.fixed_dictionaries(
        {
            "kind": st.one_of(st.sampled_from(["hearing", "checkin"]), TEXT),
            "place": st.one_of(st.just("1"), TEXT),
            "date": st.one_of(DAY, TEXT),
            "time": st.one_of(st.sampled_from(["09:00", "23:59", "02:30"]), TEXT),
            "hours": st.one_of(st.sampled_from(["1", "3", "8"]), TEXT),
            "languages": st.lists(st.one_of(st.sampled_from(["es", "mix"]), TEXT), max_size=3),
            "companions_needed": st.one_of(st.sampled_from(["1", "6"]), TEXT),
            "person_name": TEXT,
            "a_number": st.one_of(st.just("A000000000"), TEXT),
            "case_reference": st.one_of(st.just(""), TEXT),
            "contact1_address": st.one_of(st.just("+1 323 555 0140"), st.just("a@b.org"), TEXT),
            "contact1_language": st.one_of(st.just("es"), TEXT),
        }
    )
)
def test_any_appointment_form_input_gets_an_answer_never_a_500(client_as, net, data):
    court()
    client = client_as(net.lucia)
    before = Appointment.objects.count()
    response = client.post("/accompaniment/c/boyle-heights/new/", data)
    assert response.status_code in (302, 400)
    after = Appointment.objects.count()
    assert after == before + (1 if response.status_code == 302 else 0)
    if response.status_code == 302:
        appointment = Appointment.objects.latest("id")
        assert appointment.starts_at > timezone.now()
        assert appointment.data_key_id is not None
