"""Trees and cascades on a real database: building, starting, confirming by text and by
link, escalation, figures, and who may see what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import override
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.notify import messages as notify_messages
from defensa.notify.models import Delivery, Priority
from defensa.trees import actions
from defensa.trees.models import Cascade, Duty, Leaf, Reach, Tree, Via
from defensa.trees.tests.helpers import build, text

pytestmark = pytest.mark.django_db


def _start(tree: Tree, net, **kw) -> Cascade:  # type: ignore[no-untyped-def]
    values = {"message": "Meet at the church at 6.", "is_drill": True, "text_all": False}
    values.update(kw)
    return actions.start_cascade(tree, actor=net.ana, **values)


def test_tree_places_everyone_but_the_captains(net) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    placed = set(Leaf.objects.filter(tree=tree).values_list("person__display_name", flat=True))
    assert placed == {"Ana", "Lucia", "Mo", "Pat"}
    assert not Leaf.objects.filter(tree=tree, branch__isnull=True).exists()
    # Spanish speakers go to the Spanish-speaking captains first (dani and vero both are).
    assert tree.branches.count() == 2


def test_a_tree_with_no_captains_is_refused_and_nothing_stored(net, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    before = AuditEntry.objects.count()
    response = client.post("/trees/new/boyle-heights/", {"name": "Empty"})
    assert response.status_code == 200
    assert "A tree needs at least one captain" in response.content.decode()
    assert not Tree.objects.exists() and AuditEntry.objects.count() == before
    with override("es"):
        response = client.post(
            "/trees/new/boyle-heights/", {"name": "Vacío"}, HTTP_ACCEPT_LANGUAGE="es"
        )
    assert not Tree.objects.exists()


def test_a_captain_must_be_a_full_member(net) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(actions.TreeError) as caught:
        actions.create_tree(net.boyle, name="T", captains=[net.pat], actor=net.ana)
    assert caught.value.code == "captain"
    assert not Tree.objects.exists()


def test_a_tree_whose_captains_left_cannot_start(net, client_as) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    tree.branches.all().delete()
    response = client_as(net.ana).post(
        f"/trees/{tree.pk}/start/", {"message": "Go", "is_drill": "on"}, follow=True
    )
    assert "This tree has no captains" in response.content.decode()
    assert not Cascade.objects.exists()


def test_start_sends_captains_an_urgent_drill_in_their_language(net) -> None:  # type: ignore[no-untyped-def]
    net.dani.notify_sms = True
    net.dani.save()
    tree = build(net)
    cascade = _start(tree, net)
    to_dani = Delivery.objects.get(recipient=net.dani, template="tree_captain", channel="sms")
    assert to_dani.priority == Priority.URGENT and to_dani.language == "es"
    body = notify_messages.render(to_dani).body
    assert "SIMULACRO" in body and "Meet at the church at 6." in body
    assert f"/trees/cascade/{cascade.pk}/captain/" in body
    # Without text_all only captains are messaged; their people wait for them.
    assert not Delivery.objects.filter(template="tree_person").exists()
    assert Reach.objects.filter(cascade=cascade).count() == 6
    assert Duty.objects.filter(cascade=cascade).count() == 2


def test_a_second_cascade_waits_for_the_first(net) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    _start(tree, net)
    with pytest.raises(actions.TreeError) as caught:
        _start(tree, net)
    assert caught.value.code == "running"


@pytest.mark.parametrize("message", ["", "   ", "x" * 301])
def test_bad_messages_are_refused(net, message) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    with pytest.raises(actions.TreeError):
        _start(tree, net, message=message)
    assert not Cascade.objects.exists()


def test_a_reply_ok_confirms_and_other_texts_go_on(net, client) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net, text_all=True)
    mo = Reach.objects.get(cascade=cascade, person=net.mo)
    assert mo.texted_at is not None
    assert Delivery.objects.filter(recipient=net.mo, template="tree_person").exists()
    # A long text from the same number is not a confirmation: it stays a report's business.
    text(client, "ICE agents at the corner of 1st and Soto right now", number=net.mo.phone)
    mo.refresh_from_db()
    assert mo.confirmed_at is None
    text(client, "ok", number=net.mo.phone)
    mo.refresh_from_db()
    assert mo.confirmed_at is not None and mo.via == Via.SMS


def test_the_one_tap_link_confirms_on_post_only(net, client) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net, text_all=True)
    lucia = Reach.objects.get(cascade=cascade, person=net.lucia)
    delivery = Delivery.objects.filter(recipient=net.lucia, template="tree_person").first()
    assert delivery is not None
    body = notify_messages.render(delivery).body
    path = "/trees/c/" + body.split("/trees/c/")[1].split()[0]
    page = client.get(path)
    assert page.status_code == 200
    lucia.refresh_from_db()
    assert lucia.confirmed_at is None  # a link preview does not confirm
    client.post(path)
    lucia.refresh_from_db()
    assert lucia.via == Via.LINK
    assert client.get("/trees/c/not-a-token/").status_code == 404
    assert lucia.token_hash not in body and actions.reach_token(lucia) in body


def _overdue(cascade: Cascade) -> dt.datetime:
    return cascade.started_at + dt.timedelta(minutes=cascade.escalate_minutes, seconds=1)


def test_a_silent_captain_is_escalated_to_the_next_one(net) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net)
    first, second = Duty.objects.filter(cascade=cascade).order_by("position")
    actions.report_group(second, actor=second.captain)
    assert actions.escalate_overdue(cascade.started_at + dt.timedelta(minutes=14)) == 0
    mine = set(Reach.objects.filter(duty=first).values_list("pk", flat=True))
    assert mine
    assert actions.escalate_overdue(_overdue(cascade)) == 1
    assert set(Reach.objects.filter(duty=second, pk__in=mine).values_list("pk", flat=True)) == mine
    handover = Delivery.objects.get(template="tree_handover", recipient=second.captain)
    assert handover.priority == Priority.URGENT
    # Once is enough.
    assert actions.escalate_overdue(_overdue(cascade)) == 0


def test_when_no_captain_confirmed_the_coordinators_take_over(net, client_as) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net)
    assert actions.escalate_overdue(_overdue(cascade)) == 2
    handed = Reach.objects.filter(cascade=cascade, handed_to_coordinators=True)
    assert handed.count() == 4
    assert Delivery.objects.filter(template="tree_handover", recipient=net.ana).exists()
    client = client_as(net.ana)
    page = client.get(f"/trees/cascade/{cascade.pk}/").content.decode()
    assert "Handed to the coordinators" in page
    reach = handed.get(person=net.mo)
    client.post(f"/trees/cascade/{cascade.pk}/call/{reach.pk}/", {"reached": "1"})
    reach.refresh_from_db()
    assert reach.via == Via.CALL


def test_a_captain_reaches_their_group_from_the_phone(net, client_as) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net)
    duty = Duty.objects.get(cascade=cascade, captain=net.dani)
    client = client_as(net.dani)
    page = client.get(f"/trees/cascade/{cascade.pk}/captain/").content.decode()
    people = list(Reach.objects.filter(duty=duty))
    for reach in people:
        assert reach.person.display_name in page
    client.post(f"/trees/cascade/{cascade.pk}/captain/text/")
    assert Delivery.objects.filter(template="tree_person", recipient=people[0].person).exists()
    client.post(f"/trees/cascade/{cascade.pk}/call/{people[0].pk}/", {"reached": "1"})
    client.post(f"/trees/cascade/{cascade.pk}/captain/done/")
    duty.refresh_from_db()
    assert duty.texted_at and duty.reported_at
    assert Reach.objects.get(pk=people[0].pk).via == Via.CALL
    # Another captain's people are not dani's to log.
    other = Reach.objects.filter(cascade=cascade).exclude(duty=duty).exclude(duty=None).first()
    assert (
        client.post(f"/trees/cascade/{cascade.pk}/call/{other.pk}/", {"reached": "1"}).status_code
        == 404
    )


def test_figures_are_kept_and_drawn(net, client_as) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net)
    start = cascade.started_at
    for minutes, reach in enumerate(Reach.objects.filter(cascade=cascade).order_by("pk")[:5], 1):
        actions.confirm_reach(reach, via=Via.SMS, at=start + dt.timedelta(minutes=minutes))
    ended = actions.end_cascade(cascade, actor=net.ana)
    assert ended.figures["people"] == 6 and ended.figures["confirmed"] == 5
    assert ended.figures["t50_s"] == 180.0 and ended.figures["t90_s"] is None
    assert ended.figures["never"] == 1
    page = client_as(net.ana).get(f"/trees/{tree.pk}/").content.decode()
    assert "<svg" in page and "<polyline" in page and "never reached 90%" in page
    # An ended cascade confirms no one any more.
    last = Reach.objects.get(cascade=cascade, confirmed_at__isnull=True)
    assert actions.confirm_reach(last, via=Via.SMS) is False


def test_others_see_nothing(net, client_as) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net)
    omar = client_as(net.omar)  # coordinates another committee
    for path in (
        f"/trees/{tree.pk}/",
        f"/trees/cascade/{cascade.pk}/",
        f"/trees/cascade/{cascade.pk}/live/",
    ):
        assert omar.get(path).status_code == 404
    mo = client_as(net.mo)  # in the tree, not a captain
    assert mo.get(f"/trees/cascade/{cascade.pk}/captain/").status_code == 404
    assert mo.get(f"/trees/{tree.pk}/").status_code == 404


def test_the_live_page_polls_and_works_without_script(net, client_as) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net)
    page = client_as(net.ana).get(f"/trees/cascade/{cascade.pk}/").content.decode()
    assert 'hx-get="/trees/cascade/' in page and 'http-equiv="refresh"' in page
    assert "DRILL (practice)" in page
    assert timezone.now() >= cascade.started_at


def test_a_number_is_shown_only_when_asked_and_is_recorded(net, client_as) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    cascade = _start(tree, net)
    duty = Duty.objects.get(cascade=cascade, captain=net.dani)
    reach = Reach.objects.filter(duty=duty).select_related("person").first()
    client = client_as(net.dani)
    page = client.get(f"/trees/cascade/{cascade.pk}/captain/").content.decode()
    assert reach.person.phone not in page
    shown = client.post(f"/trees/cascade/{cascade.pk}/number/{reach.pk}/").content.decode()
    assert f'href="tel:{reach.person.phone}"' in shown
    entry = AuditEntry.objects.filter(action="member.phone_revealed").get()
    assert entry.actor_id == net.dani.pk
    # Another captain's person is not Vero's to see, nor is anyone's to a stranger.
    vero = client_as(net.vero)
    assert vero.post(f"/trees/cascade/{cascade.pk}/number/{reach.pk}/").status_code == 404
    assert (
        client_as(net.mo).post(f"/trees/cascade/{cascade.pk}/number/{reach.pk}/").status_code == 404
    )


@given(message=st.text(max_size=400), drill=st.booleans(), text_all=st.booleans())
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_message_is_a_cascade_or_a_clear_refusal(
    net, client_as, message, drill, text_all
) -> None:  # type: ignore[no-untyped-def]
    # One tree for every example; each example starts with no cascade (the fixture is shared).
    tree = Tree.objects.first() or build(net)
    Cascade.objects.filter(tree=tree).delete()
    form = {"message": message}
    if drill:
        form["is_drill"] = "on"
    if text_all:
        form["text_all"] = "on"
    response = client_as(net.ana).post(f"/trees/{tree.pk}/start/", form)
    assert response.status_code == 302
    started = Cascade.objects.filter(tree=tree).first()
    if started is None:
        assert not Reach.objects.exists()
    else:
        assert started.message == " ".join(message.split()) and started.is_drill == drill


def test_someone_who_left_the_committee_is_not_reached(net) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    net.mo.memberships.filter(committee=net.boyle).delete()
    net.vero.memberships.filter(committee=net.boyle).update(status="probation")
    cascade = _start(tree, net)
    assert not Reach.objects.filter(cascade=cascade, person=net.mo).exists()
    assert list(cascade.duties.values_list("captain_id", flat=True)) == [net.dani.pk]


def test_trees_tick_escalates(net) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    from defensa.core.management.commands.run_periodically import parse_jobs

    assert parse_jobs(["trees_tick:30"]) == [("trees_tick", 30)]  # as systemd runs it

    tree = build(net)
    cascade = _start(tree, net)
    Cascade.objects.filter(pk=cascade.pk).update(
        started_at=timezone.now() - dt.timedelta(minutes=cascade.escalate_minutes + 1)
    )
    out = StringIO()
    call_command("trees_tick", stdout=out)
    assert Duty.objects.filter(cascade=cascade, escalated_at__isnull=False).count() == 2
    assert "escalated 2" in out.getvalue()


def test_a_coordinator_moves_someone_by_group_number(net, client_as) -> None:  # type: ignore[no-untyped-def]
    tree = build(net)
    client = client_as(net.ana)
    page = client.get(f"/trees/{tree.pk}/").content.decode()
    assert "Group 1: Dani (captain)" in page and "Group 2: Vero (captain)" in page
    leaf = Leaf.objects.get(tree=tree, person=net.mo)
    target = tree.branches.exclude(pk=leaf.branch_id).get()
    client.post(f"/trees/{tree.pk}/move/", {"leaf": leaf.pk, "group": target.position + 1})
    leaf.refresh_from_db()
    assert leaf.branch_id == target.pk
    for bad in ({"leaf": leaf.pk, "group": 9}, {"leaf": leaf.pk, "group": "x"}, {}):
        response = client.post(f"/trees/{tree.pk}/move/", bad, follow=True)
        assert "Choose the number of one of this tree" in response.content.decode()
    leaf.refresh_from_db()
    assert leaf.branch_id == target.pk
    # Someone else's tree: 404, nothing moves.
    assert (
        client_as(net.omar)
        .post(f"/trees/{tree.pk}/move/", {"leaf": leaf.pk, "group": 1})
        .status_code
        == 404
    )
