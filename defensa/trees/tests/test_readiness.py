"""The readiness page (organising) shows the last drill's time to 90% and the week's
rapid-response shift coverage, through organising's readiness registry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from defensa.committees.models import Shift
from defensa.trees import actions
from defensa.trees.tests.helpers import build

pytestmark = pytest.mark.django_db


def _page(client_as, net) -> str:  # type: ignore[no-untyped-def]
    response = client_as(net.ana).get(f"/organising/c/{net.boyle.slug}/readiness/")
    assert response.status_code == 200
    return response.content.decode()


def test_readiness_says_no_drill_yet_then_the_last_drills_time(net, client_as) -> None:  # type: ignore[no-untyped-def]
    page = _page(client_as, net)
    assert 'id="last-drill">No drill yet<' in page
    tree = build(net)
    cascade = actions.start_cascade(
        tree, actor=net.ana, message="Practice: reply OK.", is_drill=True, text_all=False
    )
    actions.end_cascade(cascade, actor=net.ana)
    cascade.refresh_from_db()
    cascade.figures = {**cascade.figures, "t90_s": 7 * 60}
    cascade.save(update_fields=["figures"])
    assert "90% reached in 7 minutes" in _page(client_as, net)


def test_readiness_counts_hours_with_a_dispatcher_and_a_verifier(net, client_as) -> None:  # type: ignore[no-untyped-def]
    assert "0 of 168 hours have a dispatcher and a verifier on shift" in _page(client_as, net)
    dispatcher = net.boyle.memberships.get(user=net.dani)  # a dispatcher of Boyle Heights
    verifier = net.boyle.memberships.get(user=net.vero)  # a trained verifier
    for membership in (dispatcher, verifier):
        Shift.objects.create(membership=membership, weekday=2, start=dt.time(6), end=dt.time(9))
    page = _page(client_as, net)
    assert "3 of 168 hours have a dispatcher and a verifier on shift" in page, timezone.now()
