"""Every coordinator's step goes through one guard: which status it may start from, and the
refusal each status gets (the code the view turns into its message)."""

from __future__ import annotations

import pytest
from django.db import transaction

from defensa.broadcasts import actions
from defensa.broadcasts.models import BroadcastStatus
from defensa.broadcasts.views import _ERRORS
from defensa.core.transitions import IllegalTransition

pytestmark = pytest.mark.django_db

S = BroadcastStatus
# Written out by hand, as it behaved before the steps were gathered in one table.
ALLOWED = {
    "send": {S.DRAFT},
    "approve": {S.PENDING},
    "pause": {S.SENDING},
    "resume": {S.PAUSED},
    "cancel": {S.DRAFT, S.PENDING, S.SENDING, S.PAUSED},
}
REFUSAL = {
    "send": "not_draft",
    "approve": "not_pending",
    "pause": "not_sending",
    "resume": "not_paused",
    "cancel": "cancelled",
}


@pytest.mark.parametrize("step", sorted(ALLOWED))
def test_each_step_starts_only_from_its_statuses(net, step: str) -> None:  # type: ignore[no-untyped-def]
    broadcast = actions.create_broadcast(net.boyle, actor=net.ana, texts={"en": "Meet at 6"})
    for status in S.values:
        broadcast.status = status
        broadcast.save(update_fields=["status"])
        with transaction.atomic():
            if status in ALLOWED[step]:
                assert actions.begin_step(broadcast, step).status == status
            else:
                with pytest.raises(IllegalTransition) as refused:
                    actions.begin_step(broadcast, step)
                assert refused.value.code == REFUSAL[step]
                assert refused.value.code in _ERRORS  # a message for the person, never a 500


def test_a_refused_step_changes_nothing(net) -> None:  # type: ignore[no-untyped-def]
    broadcast = actions.create_broadcast(net.boyle, actor=net.ana, texts={"en": "Meet at 6"})
    with pytest.raises(IllegalTransition) as refused:
        actions.pause_broadcast(broadcast, actor=net.ana)
    assert refused.value.code == "not_sending"
    broadcast.refresh_from_db()
    assert broadcast.status == S.DRAFT
