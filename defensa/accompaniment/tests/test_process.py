"""Detained -> the family's Spanish text message leaves through a real `manage.py deliver`
process and arrives at the local Twilio-speaking peer."""

from __future__ import annotations

import pytest

from defensa.notify.tests.procs import workers
from defensa.testing.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

__all__ = ["workers"]

pytestmark = [pytest.mark.django_db(transaction=True)]

DETAIN = """
import datetime as dt, django
django.setup()
from defensa.core import testing
from defensa.accompaniment import actions
from defensa.accompaniment.tests.helpers import confirmed, schedule
net = testing.build_network()
appointment = schedule(net, starts_in=dt.timedelta(minutes=20))
companion = confirmed(net, appointment)
actions.check_in(companion, "arrived", actor=net.vero)
actions.check_in(companion, "detained", actor=net.vero)
print(appointment.pk)
"""


def test_a_detention_reaches_the_family_by_sms_in_spanish(workers, twilio_peer):
    workers.python(DETAIN)
    env = {
        "TWILIO_API_BASE": twilio_peer.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_RATE": "",
        "TWILIO_WEBHOOK_BASE_URL": "https://defensa.example.org",
    }
    proc = workers.start("--once", "--threads", "2", **env)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, out + err
    to_family = [m for m in twilio_peer.messages if m.to == "+13235550188"]
    assert len(to_family) == 1, [(m.to, m.body) for m in twilio_peer.messages]
    body = to_family[0].body
    assert "fue detenida hoy" in body
    assert "Los Angeles Immigration Court" in body
    assert "Canary" not in body and "A000000000" not in body
    # The English-speaking contact got English.
    [english] = [
        m for m in twilio_peer.messages if "".join(filter(str.isdigit, m.to)) == "13235550177"
    ]
    assert "was detained today" in english.body
