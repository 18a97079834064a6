"""Every environment variable the settings read is documented in docs/configuration.md."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    source = (ROOT / "defensa" / "settings.py").read_text()
    read = set(re.findall(r"env_(?:str|bool|int|list|secret|rate)\(\s*\"([A-Z0-9_]+)\"", source))
    assert len(read) > 20, "the pattern no longer matches how settings read the environment"
    docs = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`([A-Z0-9_]+)`", docs))
    missing = sorted(read - documented)
    assert not missing, f"settings read but not in docs/configuration.md: {missing}"
