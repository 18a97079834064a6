"""The shift roster: coverage by hour and skill in the committee's time zone, gaps in words,
assigning, swaps, reminders through the delivery engine, the on-duty switch's expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.accounts.models import Skill, SkillKind
from defensa.committees import actions, roster
from defensa.committees.models import Shift, ShiftReminder, ShiftSwap, SwapStatus
from defensa.core import testing
from defensa.notify import messages as notify_messages
from defensa.notify.models import Delivery


def _shift(user, committee, weekday, start, end):  # type: ignore[no-untyped-def]
    membership = user.memberships.get(committee=committee)
    return Shift.objects.create(
        membership=membership, weekday=weekday, start=dt.time(*start), end=dt.time(*end)
    )


def test_coverage_counts_whole_hours_by_skill_and_names_gaps(net: testing.Network) -> None:
    _shift(net.dani, net.boyle, 4, (22, 0), (6, 0))  # Friday night dispatcher, overnight
    _shift(net.vero, net.boyle, 4, (18, 30), (23, 0))  # verifier, from half past
    week = roster.coverage(net.boyle)
    friday, saturday = 4, 5
    assert week.rows[22][friday].count("dispatcher") == 1
    assert week.rows[5][saturday].count("dispatcher") == 1  # past midnight
    assert week.rows[6][saturday].count("dispatcher") == 0
    assert week.rows[18][friday].count("verifier") == 0  # only half the hour
    assert week.rows[19][friday].count("verifier") == 1
    assert week.rows[22][friday].count("") == 2  # anyone: both
    gaps = week.gaps("dispatcher")
    friday_gaps = [(g.start, g.end) for g in gaps if g.weekday == friday]
    assert friday_gaps == [("00:00", "22:00")]
    assert [(g.start, g.end) for g in gaps if g.weekday == saturday] == [("06:00", "24:00")]


def test_sunday_night_shift_wraps_into_monday(net: testing.Network) -> None:
    _shift(net.dani, net.boyle, 6, (23, 0), (2, 0))
    week = roster.coverage(net.boyle)
    assert week.rows[23][6].count("dispatcher") == 1
    assert week.rows[1][0].count("dispatcher") == 1


def test_expired_training_does_not_count(net: testing.Network) -> None:
    Skill.objects.filter(user=net.vero).update(expires_on=dt.date(2000, 1, 1))
    _shift(net.vero, net.boyle, 0, (9, 0), (17, 0))
    assert roster.coverage(net.boyle).rows[10][0].count("verifier") == 0


def test_the_roster_page_marks_gaps_in_words_and_is_for_coordinators(
    net: testing.Network,
) -> None:
    _shift(net.dani, net.boyle, 4, (22, 0), (6, 0))
    page = testing.sign_in(Client(), net.ana).get("/committees/boyle-heights/roster/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Friday 00:00–22:00: nobody" in body
    assert 'class="gap"' in body and "gap</span>" in body
    for who in (net.dani, net.mo, net.omar):
        assert (
            testing.sign_in(Client(), who).get("/committees/boyle-heights/roster/").status_code
            == 404
        )
    spanish = testing.sign_in(Client(), net.ana)
    spanish.cookies["django_language"] = "es"
    assert "nadie" in spanish.get("/committees/boyle-heights/roster/").content.decode()


def test_a_coordinator_assigns_and_removes_shifts(net: testing.Network) -> None:
    client = testing.sign_in(Client(), net.ana)
    mo = net.mo.memberships.get()
    response = client.post(
        "/committees/boyle-heights/roster/assign/",
        {"member": mo.pk, "weekday": 2, "start": "08:00", "end": "12:00"},
    )
    assert response.status_code == 302
    shift = Shift.objects.get(membership=mo)
    # Bad input: a clear error, nothing written.
    bad = client.post(
        "/committees/boyle-heights/roster/assign/",
        {"member": mo.pk, "weekday": 9, "start": "25:00", "end": ""},
    )
    assert bad.status_code == 400 and Shift.objects.count() == 1
    # Another committee's member cannot be put on this roster.
    omar = net.omar.memberships.get()
    bad = client.post(
        "/committees/boyle-heights/roster/assign/",
        {"member": omar.pk, "weekday": 2, "start": "08:00", "end": "12:00"},
    )
    assert bad.status_code == 400 and Shift.objects.count() == 1
    client.post(f"/committees/boyle-heights/roster/shifts/{shift.pk}/remove/")
    assert not Shift.objects.exists()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(
        st.sampled_from(["member", "weekday", "start", "end"]), st.text(max_size=40)
    )
)
def test_no_assignment_input_makes_a_500(net: testing.Network, data: dict[str, str]) -> None:
    client = testing.sign_in(Client(), net.ana)
    response = client.post("/committees/boyle-heights/roster/assign/", data)
    assert response.status_code in (302, 400)


def test_a_member_asks_a_swap_and_a_coordinator_approves(net: testing.Network) -> None:
    shift = _shift(net.mo, net.boyle, 1, (18, 0), (22, 0))
    mo = testing.sign_in(Client(), net.mo)
    vero = net.vero.memberships.get()
    mo.post(f"/me/availability/shifts/{shift.pk}/swap/", {f"swap{shift.pk}-taker": vero.pk})
    mo.post(f"/me/availability/shifts/{shift.pk}/swap/", {f"swap{shift.pk}-taker": vero.pk})
    swap = ShiftSwap.objects.get()  # asking twice finds the first
    # Someone else's shift, and a taker from another committee, are refused.
    pat = testing.sign_in(Client(), net.lucia)
    assert pat.post(f"/me/availability/shifts/{shift.pk}/swap/", {}).status_code == 404
    omar = net.omar.memberships.get()
    mo.post(f"/me/availability/shifts/{shift.pk}/swap/", {f"swap{shift.pk}-taker": omar.pk})
    assert ShiftSwap.objects.count() == 1
    page = testing.sign_in(Client(), net.ana).get("/committees/boyle-heights/roster/")
    assert f"swap-{swap.pk}" in page.content.decode()
    testing.sign_in(Client(), net.ana).post(
        f"/committees/boyle-heights/roster/swaps/{swap.pk}/approve/"
    )
    shift.refresh_from_db()
    swap.refresh_from_db()
    assert shift.membership_id == vero.pk and swap.status == SwapStatus.APPROVED
    # The coordinator was told of the request; both people of the decision, in their language.
    asked = Delivery.objects.get(template="shift_swap_asked", recipient=net.ana)
    assert "Mo asks to hand their shift with Boyle Heights, Tuesday 18:00–22:00, to Vero" in (
        notify_messages.render(asked).body
    )
    decided = {d.recipient_id: d for d in Delivery.objects.filter(template="shift_swap_decided")}
    assert set(decided) == {net.mo.pk, net.vero.pk}
    assert "ahora es de Vero" in notify_messages.render(decided[net.vero.pk]).body
    # Decided: the approval link is gone.
    again = testing.sign_in(Client(), net.ana).post(
        f"/committees/boyle-heights/roster/swaps/{swap.pk}/approve/"
    )
    assert again.status_code == 404


def test_reminders_go_once_in_the_persons_language_before_the_shift(
    net: testing.Network,
) -> None:
    tz = net.boyle.tz
    # Dani (Spanish, SMS) has a shift starting Wednesday 18:00 local.
    net.dani.notify_sms = True
    net.dani.save(update_fields=["notify_sms"])
    shift = _shift(net.dani, net.boyle, 2, (18, 0), (22, 0))
    start = dt.datetime(2026, 12, 2, 18, 0, tzinfo=tz)  # a Wednesday
    assert actions.send_shift_reminders(now=start - dt.timedelta(hours=3)) == 0
    assert actions.send_shift_reminders(now=start - dt.timedelta(minutes=30)) == 1
    assert actions.send_shift_reminders(now=start - dt.timedelta(minutes=20)) == 0
    sms = Delivery.objects.get(template="shift_reminder", channel="sms")
    text = notify_messages.render(sms).body
    assert "turno" in text and "18:00" in text and "22:00" in text
    assert ShiftReminder.objects.get().shift_id == shift.pk


def test_reminders_are_daylight_saving_safe(net: testing.Network) -> None:
    tz = net.boyle.tz
    # 1 November 2026: Los Angeles falls back at 02:00; 01:30 happens twice.
    shift = _shift(net.mo, net.boyle, 6, (1, 30), (3, 0))
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=tz)  # fold=0: the first 01:30 (PDT)
    assert roster.next_start(shift, tz, first - dt.timedelta(hours=2)) == first.astimezone(dt.UTC)
    assert actions.send_shift_reminders(now=first - dt.timedelta(minutes=30)) == 1
    # An hour later it is 01:30 again on the clock: no second reminder for that day.
    assert actions.send_shift_reminders(now=first + dt.timedelta(minutes=30)) == 0
    # 8 March 2026: clocks spring forward at 02:00; a 02:30 shift starts at 03:30 PDT.
    spring = _shift(net.vero, net.boyle, 6, (2, 30), (5, 0))
    start = roster.next_start(spring, tz, dt.datetime(2026, 3, 7, 12, 0, tzinfo=dt.UTC))
    assert start.astimezone(tz).hour == 3 and start.astimezone(tz).minute == 30
    # The week's grid is wall-clock: a Sunday 01:30-03:00 shift covers 02:00-03:00 (an hour
    # that does not exist on the spring day), and 02:30-05:00 covers 03:00-05:00.
    week = roster.coverage(net.boyle)
    assert [week.rows[h][6].count("") for h in (1, 2, 3, 4, 5)] == [0, 1, 1, 1, 0]


def test_the_on_duty_switch_expires_unless_renewed(net: testing.Network, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ON_DUTY_HOURS = 8
    actions.set_on_duty(net.mo, actor=net.mo, on=True)
    actions.set_on_duty(net.vero, actor=net.vero, on=True)
    later = net.mo.on_duty_since + dt.timedelta(hours=8, minutes=1)
    # Vero renews before the end.
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.filter(pk=net.vero.pk).update(on_duty_since=later - dt.timedelta(hours=1))
    assert actions.expire_on_duty(now=later) == 1
    net.mo.refresh_from_db()
    net.vero.refresh_from_db()
    assert not net.mo.on_duty and net.vero.on_duty
    assert Delivery.objects.filter(template="on_duty_ended", recipient=net.mo).exists()
    assert actions.expire_on_duty(now=later) == 0


def test_renewing_moves_the_end(net: testing.Network) -> None:
    actions.set_on_duty(net.mo, actor=net.mo, on=True)
    first = net.mo.on_duty_since
    client = testing.sign_in(Client(), net.mo)
    response = client.post("/me/availability/duty/", {"on": "1"}, follow=True)
    assert "Renewed" in response.content.decode()
    net.mo.refresh_from_db()
    assert net.mo.on_duty and net.mo.on_duty_since > first


def test_who_is_on_now_counts_each_skill(net: testing.Network) -> None:
    Skill.objects.create(user=net.dani, kind=SkillKind.HOTLINE)
    actions.set_on_duty(net.dani, actor=net.dani, on=True)
    now = dt.datetime.now(dt.UTC).astimezone(net.boyle.tz)
    Shift.objects.create(
        membership=net.vero.memberships.get(),
        weekday=now.weekday(),
        start=dt.time(0, 0),
        end=dt.time(23, 59),
    )
    people, counts = roster.on_now(net.boyle)
    assert {p.membership.user_id for p in people} == {net.dani.pk, net.vero.pk}
    assert counts == {"dispatcher": 1, "verifier": 1, "hotline": 1, "accompanier": 0}
    page = testing.sign_in(Client(), net.ana).get("/committees/boyle-heights/roster/now/")
    body = page.content.decode()
    assert 'id="count-accompanier"' in body and "nobody" in body


def test_roster_tick_runs_a_pass(net: testing.Network) -> None:
    call_command("roster_tick")


@pytest.mark.parametrize("path", ["/committees/east-la/roster/", "/committees/east-la/roster/now/"])
def test_other_committees_rosters_are_closed(net: testing.Network, path: str) -> None:
    assert testing.sign_in(Client(), net.ana).get(path).status_code == 404
