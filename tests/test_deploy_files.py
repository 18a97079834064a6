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


# Docker Compose ------------------------------------------------------------------------------

COMPOSE = ROOT / "deploy" / "docker-compose.yml"
DEFENSA_SERVICES = ("migrate", "web", "deliver", "tasks", "periodic")


def _compose() -> dict:
    import yaml

    return yaml.safe_load(COMPOSE.read_text())


def _documented() -> set[str]:
    docs = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"`([A-Z0-9_]+)`", docs))


def test_the_compose_file_parses_and_runs_what_the_services_run() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"postgres", "minio", *DEFENSA_SERVICES}
    assert services["minio"]["profiles"] == ["minio"]  # optional
    commands = get_commands()
    for name in ("deliver", "tasks", "periodic"):
        argv = services[name]["command"]
        assert argv[1] == "manage.py" and argv[2] in commands, name
    periodic = " ".join(_exec_start(ROOT / "deploy" / "systemd" / "defensa-periodic.service"))
    jobs = services["periodic"]["command"][3:]
    assert sorted(jobs) == sorted(re.findall(r"\w+:\d+", periodic))  # the same jobs
    for job in jobs:
        job_name, _, seconds = job.partition(":")
        assert job_name in commands and seconds.isdigit(), job
    # The image's server keeps no access log; the web port is published on loopback only.
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "--access-logfile" not in dockerfile and '"--error-logfile", "-"' in dockerfile
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    # Keys come in as files, never as values in the environment.
    environment = services["web"]["environment"]
    assert "DEFENSA_MASTER_KEYS" not in environment and "SECRET_KEY" not in environment
    assert environment["DEFENSA_MASTER_KEYS_FILE"].startswith("/run/secrets/")


def test_the_compose_file_names_only_documented_variables() -> None:
    documented = _documented()
    text = COMPOSE.read_text()
    named = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    compose = _compose()
    # Defensa's own services (PostgreSQL's and MinIO's fixed image settings are theirs).
    for service in DEFENSA_SERVICES:
        named |= set(compose["services"][service].get("environment") or {})
    example = (ROOT / "deploy" / "defensa.env.example").read_text()
    named |= {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}
    for variable in sorted(named):
        name = variable.removesuffix("_FILE") if variable.endswith("_FILE") else variable
        assert variable in documented or name in documented, variable
    # Every Defensa service shares the one environment, as on machines installed by hand.
    envs = {str(compose["services"][s].get("environment")) for s in DEFENSA_SERVICES}
    assert len(envs) == 1
