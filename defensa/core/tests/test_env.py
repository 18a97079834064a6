"""The environment helpers: a typo in a setting must stop start-up, not silently default."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from defensa.core.env import env_bool, env_int, env_list, env_secret, env_str


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" Yes ", True), ("ON", True), ("0", False), ("off", False)],
)
def test_env_bool_reads_common_spellings(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("DEFENSA_T", raw)
    assert env_bool("DEFENSA_T", not expected) is expected


def test_env_bool_empty_is_false_and_unset_is_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEFENSA_T", raising=False)
    assert env_bool("DEFENSA_T", True) is True
    monkeypatch.setenv("DEFENSA_T", "")
    assert env_bool("DEFENSA_T", True) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled", "tru"])
def test_env_bool_rejects_anything_else(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    # DEFENSA_HTTPS=tru silently meaning "off" would serve a network without HSTS.
    monkeypatch.setenv("DEFENSA_T", raw)
    with pytest.raises(ImproperlyConfigured, match="DEFENSA_T must be a boolean"):
        env_bool("DEFENSA_T")


def test_env_int_parses_checks_minimum_and_rejects_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFENSA_N", " 12 ")
    assert env_int("DEFENSA_N", 3) == 12
    monkeypatch.setenv("DEFENSA_N", "")
    assert env_int("DEFENSA_N", 3) == 3
    monkeypatch.setenv("DEFENSA_N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("DEFENSA_N", 3)
    monkeypatch.setenv("DEFENSA_N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("DEFENSA_N", 3, minimum=1)


def test_env_list_and_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFENSA_L", " a.example.org, ,b.example.org ")
    assert env_list("DEFENSA_L") == ["a.example.org", "b.example.org"]
    monkeypatch.delenv("DEFENSA_L")
    assert env_list("DEFENSA_L", ["x"]) == ["x"]
    assert env_str("DEFENSA_L", "fallback") == "fallback"


def test_env_secret_prefers_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-the-file\n")  # editors and `echo` add a newline
    monkeypatch.setenv("DEFENSA_S", "from-the-variable")
    assert env_secret("DEFENSA_S") == "from-the-variable"
    monkeypatch.setenv("DEFENSA_S_FILE", str(secret_file))
    assert env_secret("DEFENSA_S") == "from-the-file"


def test_env_secret_unreadable_file_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Falling back to an empty or default secret would quietly weaken the deployment.
    monkeypatch.setenv("DEFENSA_S_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="DEFENSA_S_FILE"):
        env_secret("DEFENSA_S", "default")


def test_env_secret_default_when_neither_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEFENSA_S", raising=False)
    monkeypatch.delenv("DEFENSA_S_FILE", raising=False)
    assert env_secret("DEFENSA_S", "dflt") == "dflt"
