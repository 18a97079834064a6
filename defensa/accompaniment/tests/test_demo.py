"""The demo's accompaniments: fictional people, real places, idempotent."""

from __future__ import annotations

import pytest

from defensa.accompaniment import demo
from defensa.accompaniment.models import Appointment, Companion
from defensa.accompaniment.tests.helpers import accompanier
from defensa.core import crypto

pytestmark = pytest.mark.django_db


def test_demo_accompaniments_are_added_once(net):
    personas = {"legal": net.lucia, "member": accompanier(net.mo)}
    committees = {"boyle-heights": net.boyle}
    assert demo.seed(personas, committees) == {"accompaniments": len(demo.APPOINTMENTS)}
    assert demo.seed(personas, committees) == {"accompaniments": 0}
    assert Appointment.objects.count() == len(demo.APPOINTMENTS)
    first = Appointment.objects.order_by("starts_at").first()
    assert "ficticia" in crypto.unseal(first, "person_name")
    assert sorted(Companion.objects.values_list("status", flat=True)) == ["confirmed", "pending"]
