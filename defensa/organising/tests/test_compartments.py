"""The compartment wall: every organising page, walked with Boyle Heights' real ids, refuses
an organiser of East LA, an organiser on probation and a plain member; coordinators without
the organiser skill reach readiness of their own committee and nothing else."""

from __future__ import annotations

import pytest

from defensa.core.tests.test_closed_by_default import Visitor, violations
from defensa.core.tests.urlwalk import Samples, endpoints, sample_paths
from defensa.organising import actions
from defensa.organising.tests.helpers import contact, make_organiser, structure_test, workplace

pytestmark = pytest.mark.django_db


def test_other_compartments_are_refused_everywhere(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa", phone="+13235550141")
    actions.assess_worker(rosa, 2, reason="yes", actor=olga)
    test = structure_test(net.boyle, olga, [place])
    samples = Samples(
        ints=tuple(sorted({place.pk, rosa.pk, test.pk})),
        slugs=(net.boyle.slug, net.network.slug),
        extra={"token": "x"},
    )
    organising = [
        e
        for e in endpoints()
        if e.name.startswith("organising:")
        and e.name not in ("organising:take_part", "organising:my_history", "organising:index")
    ]
    assert len(organising) > 15  # every page that takes an id or a committee
    outsiders = [
        Visitor("eddie (East LA organiser)", make_organiser("eddie", net.east)),
        Visitor("pablo (organiser on probation)", make_organiser("pablo", net.boyle, full=False)),
        Visitor("mo (member)", net.mo),
    ]
    assert violations(organising, outsiders, samples) == []
    # And the organiser herself reaches them (the walk is not refusing everyone).
    assert violations(organising, [Visitor("olga", olga)], samples)


def test_coordinators_see_readiness_and_nothing_else(net, client_as):  # type: ignore[no-untyped-def]
    """Coordinators sign in with a passkey (the walk's clients use an authenticator app, which
    a coordinator's pages refuse anyway), so they are walked here with their own factor."""
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa", phone="+13235550141")
    test = structure_test(net.boyle, olga, [place])
    samples = Samples(ints=tuple(sorted({place.pk, rosa.pk, test.pk})), slugs=(net.boyle.slug,))
    paths = [
        (e.name, path)
        for e in endpoints()
        if e.name.startswith("organising:")
        and e.name not in ("organising:take_part", "organising:my_history")
        for path in sample_paths(e, samples)
    ]
    for who, allowed in ((net.ana, {"organising:readiness"}), (net.omar, set())):
        client = client_as(who)
        for name, path in paths:
            status = client.get(path).status_code
            if name in allowed:
                assert status == 200, (who, path)
            else:
                assert status in (404, 405), (who, path, status)


def test_an_organisers_index_lists_only_their_compartment(net, client_as):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    workplace(net.boyle, olga, employer="Boyle Foods Zq")
    eddie = make_organiser("eddie", net.east)
    page = client_as(eddie).get("/organising/").content.decode()
    assert "Boyle Foods Zq" not in page
    assert "Boyle Foods Zq" in client_as(olga).get("/organising/").content.decode()
