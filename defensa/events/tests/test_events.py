"""Events: times in the committee's zone, RSVPs under capacity, shifts tied to skills,
check-in, attendance, arrests opening cases, picket hours, the broadcast segment and the
calendar feed."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from defensa.accounts.models import Skill, SkillKind
from defensa.audit.models import AuditEntry
from defensa.broadcasts.models import Broadcast
from defensa.broadcasts.segments import recipients
from defensa.cases.models import Case, Facility, Source
from defensa.core import testing
from defensa.events import actions
from defensa.events.forms import local_moment
from defensa.events.hours import hours_for
from defensa.events.models import Arrest, CheckinMiss, Event, Rsvp, RsvpStatus
from defensa.events.tests.helpers import add_shift, make_event, move
from defensa.notify.models import Delivery

pytestmark = pytest.mark.django_db
LA = zoneinfo.ZoneInfo("America/Los_Angeles")


# Time -----------------------------------------------------------------------------------


def test_a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first():
    with pytest.raises(ValidationError):
        local_moment(dt.date(2027, 3, 14), dt.time(2, 30), LA)  # spring forward: 2:00 -> 3:00
    twice = local_moment(dt.date(2027, 11, 7), dt.time(1, 30), LA)  # fall back: 1:30 twice
    assert twice.astimezone(dt.UTC).hour == 8  # 1:30 PDT (UTC-7), the first of the two
    summer = local_moment(dt.date(2027, 7, 1), dt.time(10, 0), LA)
    winter = local_moment(dt.date(2027, 12, 1), dt.time(10, 0), LA)
    assert (summer.astimezone(dt.UTC).hour, winter.astimezone(dt.UTC).hour) == (17, 18)


def test_the_form_takes_local_times_across_midnight(net, client):
    testing.sign_in(client, net.ana)
    day = (dt.datetime.now(LA) + dt.timedelta(days=3)).date()
    response = client.post(
        f"/events/new/{net.boyle.slug}/",
        {
            "kind": "meeting",
            "title": "Night shift meeting",
            "day": day.isoformat(),
            "start": "22:00",
            "end": "01:00",
            "area": "Boyle Heights",
            "place": "The hall, 2nd floor",
            "languages": ["es"],
            "visibility": "members",
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302
    assert event.local_start.date() == day and event.local_start.hour == 22
    assert event.ends_at - event.starts_at == dt.timedelta(hours=3)
    assert AuditEntry.objects.filter(action="events.created").count() == 1


# RSVPs and capacity ------------------------------------------------------------------------


def test_over_capacity_goes_to_the_waiting_list_and_moves_up(net):
    event = make_event(net.boyle, net.ana, capacity=2)
    first, word1 = actions.rsvp_as_member(event, net.vero)
    _second, word2 = actions.rsvp_as_member(event, net.mo)
    third, word3 = actions.rsvp_as_member(event, net.dani)
    assert (word1, word2, word3) == ("going", "going", "waitlist")
    assert actions.rsvp_as_member(event, net.dani)[1] == "already"
    actions.cancel_rsvp(first, actor=net.vero)
    third.refresh_from_db()
    assert third.status == RsvpStatus.GOING
    told = Delivery.objects.filter(template="event_promoted")
    assert told.count() >= 1 and {d.recipient_id for d in told} == {net.dani.pk}
    assert Rsvp.objects.filter(event=event, status=RsvpStatus.GOING).count() == 2


def test_a_full_shift_says_so_and_stores_nothing(net):
    event = make_event(net.boyle, net.ana)
    shift = add_shift(event, net.ana, capacity=1)
    actions.rsvp_as_member(event, net.vero, shift=shift)
    with pytest.raises(actions.EventError) as error:
        actions.rsvp_as_member(event, net.mo, shift=shift)
    assert error.value.code == "full"
    assert Rsvp.objects.filter(shift=shift).count() == 1


def test_roles_that_matter_need_a_granted_skill(net):
    event = make_event(net.boyle, net.ana, kind="protest")
    shift = add_shift(event, net.ana, role="legal_observer")
    with pytest.raises(actions.EventError) as error:
        actions.rsvp_as_member(event, net.mo, shift=shift)
    assert error.value.code == "skill"
    Skill.objects.create(user=net.mo, kind=SkillKind.LEGAL_OBSERVER)
    assert actions.rsvp_as_member(event, net.mo, shift=shift)[1] == "going"


def test_only_members_of_the_committee_or_below_may_rsvp(net):
    event = make_event(net.boyle, net.ana)
    with pytest.raises(actions.EventError):
        actions.rsvp_as_member(event, net.omar)  # East LA
    city_event = make_event(net.city, net.ana)
    testing.join(net.ana, net.city, is_coordinator=True)
    assert actions.rsvp_as_member(city_event, net.vero)[1] == "going"  # Boyle is below


@pytest.mark.django_db(transaction=True)
def test_two_people_never_take_the_last_place_together():
    net = testing.build_network()
    event = make_event(net.boyle, net.ana, capacity=1)
    people = [net.vero, net.mo, net.dani, net.lucia]
    barrier = threading.Barrier(len(people))
    words: list[str] = []

    def take(person):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            words.append(actions.rsvp_as_member(event, person)[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(words) == ["going", "waitlist", "waitlist", "waitlist"]
    assert Rsvp.objects.filter(event=event, status=RsvpStatus.GOING).count() == 1


def test_the_public_page_takes_a_phone_and_hides_the_exact_place(net):
    event = make_event(net.boyle, net.ana, visibility="public")
    page = Client().get(f"/events/p/{event.code}/")
    assert page.status_code == 200
    assert event.area in page.content.decode() and event.place not in page.content.decode()
    response = Client().post(f"/events/p/{event.code}/", {"phone": "(323) 555-0142"})
    assert response.status_code == 302
    rsvp = Rsvp.objects.get()
    assert rsvp.user is None and rsvp.phone_end == "42"
    assert "5550142" not in str(Rsvp.objects.values_list("phone", flat=True)[0])
    assert "5550142" not in str(list(AuditEntry.objects.values_list("data", flat=True)))
    members_only = make_event(net.boyle, net.ana)
    assert Client().get(f"/events/p/{members_only.code}/").status_code == 404


# Check-in and attendance -------------------------------------------------------------------


def test_checkin_code_guessing_is_stopped(net):
    event = make_event(net.boyle, net.ana)
    actions.rsvp_as_member(event, net.vero)
    with pytest.raises(actions.EventError) as error:
        actions.check_in_with_code(event, net.vero, event.checkin_code)
    assert error.value.code == "closed"  # two days early
    move(event, starts_in=dt.timedelta(minutes=-10))
    for _i in range(actions.MISS_LIMIT):
        with pytest.raises(actions.EventError):
            actions.check_in_with_code(event, net.vero, "ZZZZZZ")
    with pytest.raises(actions.EventError) as error:
        actions.check_in_with_code(event, net.vero, event.checkin_code)
    assert error.value.code == "locked"
    assert not Rsvp.objects.filter(checked_in_at__isnull=False).exists()
    CheckinMiss.objects.all().delete()  # 15 minutes later
    assert actions.check_in_with_code(event, net.vero, event.checkin_code.lower()) == 1


def test_checkin_from_the_page_and_the_marshals_list(net, client):
    event = make_event(net.boyle, net.ana, visibility="public")
    actions.rsvp_as_member(event, net.vero)
    actions.rsvp_by_phone(event, "+13235550142", channel="web", language="es")
    move(event, starts_in=dt.timedelta(minutes=-5))
    testing.sign_in(client, net.vero)
    wrong = client.post(f"/events/{event.pk}/checkin/", {"code": "ZZZZZZ"})
    assert wrong.status_code == 400 and "not the code" in wrong.content.decode()
    right = client.post(f"/events/{event.pk}/checkin/", {"code": event.checkin_code})
    assert right.status_code == 302
    assert client.get(f"/events/{event.pk}/list/").status_code == 404  # not a marshal
    marshal = Client()
    testing.sign_in(marshal, net.ana)
    listing = marshal.get(f"/events/{event.pk}/list/").content.decode()
    assert "Phone ending 42" in listing and "Vero" in listing
    phone_rsvp = Rsvp.objects.get(user=None)
    assert marshal.post(f"/events/{event.pk}/list/", {"rsvp": phone_rsvp.pk}).status_code == 302
    assert Rsvp.objects.filter(checked_in_at__isnull=False).count() == 2


def test_attendance_history_counts_the_last_events(net):
    for came in (True, True, False, True, True):
        event = make_event(net.boyle, net.ana)
        actions.rsvp_as_member(event, net.vero)
        move(event, starts_in=dt.timedelta(minutes=-30))
        if came:
            actions.check_in_with_code(event, net.vero, event.checkin_code)
        move(event, starts_in=dt.timedelta(days=-1 - Event.objects.count()))
    assert actions.attendance(user=net.vero) == (3, 4)
    assert actions.attendance(user=net.mo) == (0, 0)


def test_picket_hours_count_attended_picket_shifts(net):
    event = make_event(net.boyle, net.ana)
    picket = add_shift(event, net.ana)
    marshal = add_shift(event, net.ana, role="marshal")
    actions.rsvp_as_member(event, net.vero, shift=picket)
    actions.rsvp_as_member(event, net.vero, shift=marshal)
    since = event.starts_at - dt.timedelta(days=1)
    assert hours_for(net.vero, since) == 0
    move(event, starts_in=dt.timedelta(minutes=-5))
    actions.check_in_with_code(event, net.vero, event.checkin_code)
    since = event.starts_at - dt.timedelta(days=1)
    assert hours_for(net.vero, since) == 2.0
    assert hours_for(net.vero, since, roles=None) == 4.0
    assert hours_for(net.vero, event.starts_at + dt.timedelta(minutes=1)) == 0


# Arrests ------------------------------------------------------------------------------------


def test_a_legal_observer_reports_an_arrest_that_opens_a_case(net, client):
    event = make_event(net.boyle, net.ana, kind="protest")
    shift = add_shift(event, net.ana, role="legal_observer")
    Skill.objects.create(user=net.mo, kind=SkillKind.LEGAL_OBSERVER)
    actions.rsvp_as_member(event, net.mo, shift=shift)
    move(event, starts_in=dt.timedelta(minutes=-20))
    facility = Facility.objects.create(name="Metropolitan Detention Center", city="LA")
    outsider = Client()
    testing.sign_in(outsider, net.vero)
    assert outsider.get(f"/events/{event.pk}/arrest/").status_code == 404
    testing.sign_in(client, net.mo)
    response = client.post(
        f"/events/{event.pk}/arrest/",
        {"person_name": "Rosa M.", "facility": facility.pk, "note": "LAPD, 3 officers, 11:05"},
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.source == Source.EVENT and case.facility == facility
    assert Arrest.objects.get().case == case
    assert "Rosa" not in str(Case.objects.values_list("person_name", flat=True)[0])
    told = Delivery.objects.filter(template="case_opened")
    assert {d.recipient_id for d in told} == {net.lucia.pk}  # the legal team
    assert AuditEntry.objects.filter(action="events.arrest_reported").count() == 1


def test_an_empty_arrest_report_changes_nothing(net, client):
    event = make_event(net.boyle, net.ana, kind="protest")
    move(event, starts_in=dt.timedelta(minutes=-20))
    testing.sign_in(client, net.lucia)  # the legal team may report too
    response = client.post(f"/events/{event.pk}/arrest/", {"note": ""})
    assert response.status_code == 400
    assert Case.objects.count() == 0 and Arrest.objects.count() == 0


# Broadcast segment and calendar feed --------------------------------------------------------


def test_broadcasts_can_target_who_rsvped(net, client):
    event = make_event(net.boyle, net.ana)
    actions.rsvp_as_member(event, net.vero)
    broadcast = Broadcast.objects.create(
        committee=net.boyle, texts={"en": "Hi", "es": "Hola"}, extra={"event": event.pk}
    )
    assert list(recipients(broadcast)) == [net.vero]
    broadcast.extra = {}
    assert net.mo in list(recipients(broadcast))
    testing.sign_in(client, net.ana)
    page = client.get(f"/broadcasts/{net.boyle.slug}/new/")
    assert "Only people who RSVPed to this event" in page.content.decode()
    response = client.post(
        f"/broadcasts/{net.boyle.slug}/new/",
        {"text_en": "Bring water", "text_es": "Trae agua", "extra_event": str(event.pk)},
    )
    assert response.status_code == 302
    assert Broadcast.objects.latest("pk").extra == {"event": event.pk}
    bad = client.post(
        f"/broadcasts/{net.boyle.slug}/new/",
        {"text_en": "x", "text_es": "x", "extra_event": "999999"},
    )
    assert bad.status_code == 400


def test_members_get_their_events_in_their_private_feed(net, client):
    from defensa.accompaniment.actions import new_feed_token

    event = make_event(net.boyle, net.ana)
    shift = add_shift(event, net.ana)
    actions.rsvp_as_member(event, net.vero, shift=shift)
    with django_atomic():
        token = new_feed_token(net.vero, actor=net.vero)
    body = Client().get(f"/accompaniment/cal/{token}.ics").content.decode()
    assert "Picket at the warehouse" in body and "1st St and Boyle Ave" in body


def django_atomic():  # type: ignore[no-untyped-def]
    from django.db import transaction

    return transaction.atomic()


# Retention ----------------------------------------------------------------------------------


def test_events_past_their_retention_are_purged_with_their_sealed_phones(net):
    from defensa.core import retention
    from defensa.core.crypto.models import DataKey
    from defensa.events.models import EVENT_RETENTION

    old = make_event(net.boyle, net.ana, visibility="public")
    add_shift(old, net.ana)
    actions.rsvp_by_phone(old, "+13235550142", channel="web", language="en")
    actions.rsvp_as_member(old, net.vero)
    key = old.data_key_id
    retention.purge(now=timezone.now() + EVENT_RETENTION - dt.timedelta(days=1))
    assert Rsvp.objects.filter(event=old).count() == 2  # not yet
    later = old.ends_at + EVENT_RETENTION + dt.timedelta(days=1)
    retention.purge(now=later)
    assert not Event.objects.filter(pk=old.pk).exists()
    assert not Rsvp.objects.filter(event_id=old.pk).exists()
    gone = DataKey.objects.filter(pk=key).first()
    assert gone is None or gone.shredded_at is not None


def test_organisers_add_shifts_and_bad_ones_change_nothing(net, client):
    event = make_event(net.boyle, net.ana)
    testing.sign_in(client, net.ana)
    start = event.local_start
    ok = client.post(
        f"/events/{event.pk}/shifts/new/",
        {
            "role": "marshal",
            "start": f"{start:%H:%M}",
            "end": f"{start.hour + 1:02d}:00" if start.hour < 22 else "23:59",
            "capacity": "4",
        },
    )
    assert ok.status_code == 302
    for bad in (
        {"role": "marshal", "start": "10:00", "end": "11:00", "capacity": "0"},
        {"role": "boss", "start": "10:00", "end": "11:00", "capacity": "2"},
        {"role": "marshal", "start": "25:00", "end": "11:00", "capacity": "2"},
    ):
        assert client.post(f"/events/{event.pk}/shifts/new/", bad).status_code == 400
    assert event.shifts.count() == 1
    other = Client()
    testing.sign_in(other, net.vero)  # a member, not an organiser
    assert other.get(f"/events/{event.pk}/shifts/new/").status_code == 404


def test_strike_funds_see_picket_hours_at_their_committee(net):
    from defensa.funds.hours import picket_hours

    event = make_event(net.boyle, net.ana)
    picket = add_shift(event, net.ana)
    actions.rsvp_as_member(event, net.vero, shift=picket)
    move(event, starts_in=dt.timedelta(minutes=-5))
    actions.check_in_with_code(event, net.vero, event.checkin_code)
    assert picket_hours(net.vero, net.boyle) == 2.0
    assert picket_hours(net.vero, net.network) == 2.0  # Boyle Heights is under the network
    assert picket_hours(net.vero, net.east) == 0.0
