from __future__ import annotations

from defensa.notify.testing import smtp_server
from defensa.notify.tests.gateway_peer import gateway_peer
from defensa.notify.tests.signal_peer import signal_peer
from defensa.notify.tests.twilio_peer import twilio_peer

__all__ = ["gateway_peer", "signal_peer", "smtp_server", "twilio_peer"]
