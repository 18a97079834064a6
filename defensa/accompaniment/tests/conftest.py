from __future__ import annotations

from defensa.notify.testing import smtp_server
from defensa.notify.tests.twilio_peer import twilio_peer

__all__ = ["smtp_server", "twilio_peer"]
