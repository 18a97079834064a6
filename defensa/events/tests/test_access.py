"""Events behind closed doors: the URL walk with real events, rows and ids in place, as an
anonymous visitor, as another committee's member, and as a member on probation who
joined after the event was planned (no history)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from defensa.committees.models import Membership
from defensa.core import testing
from defensa.core.tests.test_closed_by_default import Visitor, violations
from defensa.core.tests.urlwalk import Samples, endpoints
from defensa.events import actions
from defensa.events.models import Rsvp
from defensa.events.tests.helpers import add_shift, make_event

pytestmark = pytest.mark.django_db


def test_event_pages_refuse_outsiders_and_probation_without_history(net):
    event = make_event(net.boyle, net.ana, visibility="public")
    shift = add_shift(event, net.ana, role="marshal")
    actions.rsvp_as_member(event, net.vero, shift=shift)
    rsvp = Rsvp.objects.get()
    Membership.objects.filter(user=net.pat).update(
        joined_at=timezone.now() + dt.timedelta(seconds=1)
    )
    eli = testing.make_user("eli")
    testing.join(eli, net.east)
    ids = (event.pk, shift.pk, rsvp.pk, 999999)
    found = violations(
        [e for e in endpoints() if e.name.startswith("events:")],
        [Visitor("anonymous", None), Visitor("eli (East LA)", eli), Visitor("pat", net.pat)],
        Samples(ints=tuple(sorted(set(ids))), slugs=(net.boyle.slug, net.east.slug)),
    )
    assert found == [], "\n".join(found)


def test_members_see_their_committees_events_and_those_above(net):
    testing.join(net.ana, net.city, is_coordinator=True)
    own = make_event(net.boyle, net.ana)
    city = make_event(net.city, net.ana)
    other = make_event(net.east, net.omar)
    client = testing.sign_in(Client(), net.vero)
    page = client.get("/events/").content.decode()
    assert own.title in page
    assert client.get(f"/events/{city.pk}/").status_code == 200
    assert client.get(f"/events/{other.pk}/").status_code == 404
    assert client.get(f"/events/{own.pk}/list/").status_code == 404
    # The exact place only with a confirmed place.
    assert own.place not in client.get(f"/events/{own.pk}/").content.decode()
    client.post(f"/events/{own.pk}/rsvp/")
    assert own.place in client.get(f"/events/{own.pk}/").content.decode()


def test_a_shift_of_another_event_is_refused(net):
    event = make_event(net.boyle, net.ana)
    other = make_event(net.east, net.omar)
    foreign = add_shift(other, net.omar)
    client = testing.sign_in(Client(), net.vero)
    response = client.post(f"/events/{event.pk}/rsvp/", {"shift": foreign.pk})
    assert response.status_code == 404
    assert client.post(f"/events/{event.pk}/rsvp/", {"shift": "x"}).status_code == 404
    assert Rsvp.objects.count() == 0
