"""Security properties 9 and 12: production settings pass Django's deployment checks.

Production settings come from the environment at import time, and the test suite replaces
the password hasher, so these run the settings module in a separate process.
"""

from __future__ import annotations

from pathlib import Path

from defensa.core.tests.proc import manage, production_env, settings_in


def test_check_deploy_is_clean_under_production_settings(tmp_path: Path) -> None:
    done = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output.upper() and "ERROR" not in output.upper(), output
    assert "System check identified no issues" in output


def test_check_deploy_flags_a_plain_http_setup(tmp_path: Path) -> None:
    # The gate must be able to fail: without DEFENSA_HTTPS the same check reports HSTS,
    # secure cookies and the HTTPS redirect.
    env = production_env(tmp_path, DEFENSA_HTTPS="0")
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    for check_id in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check_id in done.stderr + done.stdout


def test_production_hashes_passwords_with_argon2(tmp_path: Path) -> None:
    found = settings_in(production_env(tmp_path), "PASSWORD_HASHERS", "AUTH_PASSWORD_VALIDATORS")
    # Django's Argon2 hasher behind a per-process cap (accounts/hashers.py, issue 9 point 6).
    assert found["PASSWORD_HASHERS"][0] == "defensa.accounts.hashers.ThrottledArgon2PasswordHasher"
    validators = {v["NAME"].rsplit(".", 1)[1] for v in found["AUTH_PASSWORD_VALIDATORS"]}
    assert "CommonPasswordValidator" in validators
    assert "MinimumLengthValidator" in validators


def test_argon2_is_the_id_variant(tmp_path: Path) -> None:
    # Argon2id resists both GPU cracking and side channels; Django's hasher uses it, and the
    # hash prefix proves it rather than trusting the class name.
    from django.contrib.auth.hashers import Argon2PasswordHasher

    encoded = Argon2PasswordHasher().encode("correct horse battery", "c2FsdHNhbHQ")
    assert encoded.startswith("argon2$argon2id$")
