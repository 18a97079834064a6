from __future__ import annotations

from defensa.notify.testing import smtp_server

__all__ = ["smtp_server"]
