from __future__ import annotations

from defensa.notify.testing import smtp_server
from defensa.notify.tests.procs import workers

__all__ = ["smtp_server", "workers"]
