from __future__ import annotations

from defensa.voice.tests.voice_peer import voice_peer

__all__ = ["voice_peer"]
