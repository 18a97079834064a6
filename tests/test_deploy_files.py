"""The deployment examples in deploy/ run what exists and keep nothing about visitors."""

import re
import shlex
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def _exec_start(unit: Path) -> list[str]:
    text = unit.read_text().replace("\\\n", " ")
    line = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_every_unit_runs_a_command_that_exists_and_may_write_only_the_data_dir() -> None:
    assert {u.name for u in UNITS} == {
        "defensa-web.service",
        "defensa-deliver.service",
        "defensa-tasks.service",
        "defensa-periodic.service",
    }
    commands = get_commands()
    for unit in UNITS:
        text = unit.read_text()
        assert "ProtectSystem=strict" in text and "ReadWritePaths=/var/lib/defensa" in text
        argv = _exec_start(unit)
        if "manage.py" in argv:
            name = argv[argv.index("manage.py") + 1]
            assert name in commands, (unit.name, name)
            if name == "run_periodically":
                for job in argv[argv.index(name) + 1 :]:
                    job_name, _, seconds = job.partition(":")
                    assert job_name in commands and seconds.isdigit(), job


def test_the_periodic_unit_runs_every_job_scripts_serve_runs() -> None:
    serve = (ROOT / "scripts" / "serve").read_text()
    periodic = " ".join(_exec_start(ROOT / "deploy" / "systemd" / "defensa-periodic.service"))
    for name in re.findall(r"manage\.py (\w+) --every", serve):
        assert f"{name}:" in periodic, name
    for name in re.findall(r"(\w+):\d+", serve):
        assert f"{name}:" in periodic, name


def test_the_web_unit_keeps_no_access_log() -> None:
    argv = _exec_start(ROOT / "deploy" / "systemd" / "defensa-web.service")
    assert "--access-logfile" not in argv and "--error-logfile" in argv


def test_the_proxies_keep_no_access_log_and_overwrite_the_forwarded_address() -> None:
    nginx = (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()
    settings_lines = [x.split("#")[0].strip() for x in nginx.splitlines()]
    assert settings_lines.count("access_log off;") == 2  # both server blocks
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in settings_lines
    assert not any("proxy_add_x_forwarded_for" in x for x in settings_lines)
    caddy = [
        x.split("#")[0].strip() for x in (ROOT / "deploy/proxy/Caddyfile").read_text().splitlines()
    ]
    assert "header_up X-Forwarded-For {remote_host}" in caddy
    assert not any(x.startswith("log") for x in caddy)
