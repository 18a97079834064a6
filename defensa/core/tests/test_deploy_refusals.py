"""Issue 9, point 13: `check --deploy` fails on a master key beside the data, or a demo."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from defensa.core.tests.proc import manage, production_env


def _deploy_check(env: dict[str, str]) -> tuple[int, str]:
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    return done.returncode, done.stdout + done.stderr


def _entry(key_id: str) -> str:
    return f"{key_id}:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_a_demo_with_its_generated_master_key_fails_the_deploy_check(tmp_path: Path) -> None:
    env = production_env(tmp_path, DEFENSA_DEMO="1")
    env.pop("DEFENSA_MASTER_KEYS")
    code, output = _deploy_check(env)
    assert code != 0
    assert "defensa.E001" in output and "defensa.E002" in output


def test_a_master_key_file_inside_the_data_directory_fails(tmp_path: Path) -> None:
    inside = tmp_path / "master_keys"
    inside.write_text(_entry("prod1"))
    env = production_env(tmp_path, DEFENSA_MASTER_KEYS_FILE=str(inside))
    env.pop("DEFENSA_MASTER_KEYS")
    code, output = _deploy_check(env)
    assert code != 0 and "defensa.E001" in output


def test_the_development_key_copied_into_the_setting_fails(tmp_path: Path) -> None:
    code, output = _deploy_check(production_env(tmp_path, DEFENSA_MASTER_KEYS=_entry("dev")))
    assert code != 0 and "defensa.E001" in output


def test_a_key_file_outside_the_data_directory_passes(tmp_path: Path) -> None:
    data, secrets_dir = tmp_path / "data", tmp_path / "etc"
    data.mkdir()
    secrets_dir.mkdir()
    (secrets_dir / "master_keys").write_text(_entry("prod1"))
    env = production_env(data, DEFENSA_MASTER_KEYS_FILE=str(secrets_dir / "master_keys"))
    env.pop("DEFENSA_MASTER_KEYS")
    code, output = _deploy_check(env)
    assert code == 0, output
