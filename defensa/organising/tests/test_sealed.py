"""A contact's phone and name, and an assessment's reason, exist in the clear nowhere in the
database: not in the workers' rows, the outbox, the audit log or any other table, whichever
way they came in (the form, a link sent by text, the reply to a keyword)."""

from __future__ import annotations

import pytest
from django.test import Client

from defensa.core.tests.canary import CANARY_NEEDLES, CANARY_PHONE, dump_database
from defensa.organising import actions
from defensa.organising.tests.helpers import make_organiser, structure_test, text, workplace

pytestmark = pytest.mark.django_db

CANARY_E164 = "+13235550177"  # CANARY_PHONE as a provider writes it
NAME = "Canaria Quetzal"
REASON = "canary-reason-afraid-of-the-supervisor"


def test_nothing_identifying_in_the_clear(net, client_as):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    client = client_as(olga)
    client.post(
        f"/organising/workplaces/{place.pk}/workers/add/",
        {"name": NAME, "phone": CANARY_PHONE, "language": "es", "department": "Kitchen"},
    )
    worker = place.workers.get()
    client.post(
        f"/organising/workplaces/{place.pk}/workers/{worker.pk}/assess/",
        {"value": "2", "reason": REASON},
    )
    test = structure_test(net.boyle, olga, [place])
    client.post(f"/organising/tests/{test.pk}/links/")
    text(Client(), f"ACCION {test.code}", number=CANARY_E164)
    assert actions.reason_of(worker.assessments.get()) == REASON

    dump = dump_database()
    needles = (*CANARY_NEEDLES, NAME, "Canaria", REASON)
    leaks = {table: n for table, rows in dump.items() for n in needles if n in rows}
    assert leaks == {}
    # The organiser's own pages show them (audited), the chart and the test's page do not.
    assert NAME in client.get(f"/organising/workplaces/{place.pk}/workers/").content.decode()
    for path in (f"/organising/workplaces/{place.pk}/", f"/organising/tests/{test.pk}/"):
        page = client.get(path).content.decode()
        assert not [n for n in needles if n in page], path
