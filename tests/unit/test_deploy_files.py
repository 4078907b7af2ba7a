"""The files in ``deploy/`` agree with the product they deploy.

No container engine runs here, so compose and the Dockerfile are never started in CI;
what can drift silently is checked instead: every command they run parses with dossier's
own CLI, every ``DOSSIER_*`` name they set is a setting, each process has its own
executor id, health checks probe the port the process listens on, and the load balancer
points at the API replicas with timeouts above the SSE heartbeat. (``deploy/nginx.conf``
itself runs under real nginx in ``tests/e2e/test_deploy_nginx.py``.)
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.core
import typer.main
import yaml

from dossier.cli.main import app
from dossier.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTING_NAMES = {f"DOSSIER_{name.upper()}" for name in Settings.model_fields}


def parse_command(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """The subcommand and its options as the CLI parses them, without running it (bad
    options raise)."""
    assert argv[0] == "dossier", argv
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    command = group.commands[argv[1]]
    context = command.make_context(argv[1], list(argv[2:]))
    return str(context.info_name), dict(context.params)


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def dossier_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return {name: s for name, s in services.items() if s.get("image") == "dossier:local"}


def test_the_procfile_runs_commands_the_cli_accepts_with_known_settings() -> None:
    lines = [
        line
        for line in (DEPLOY / "Procfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    kinds = {}
    for line in lines:
        kind, _, command = line.partition(":")
        words = shlex.split(re.sub(r"\$\{\w+:-(\d+)\}", r"\1", command))
        assignments = [w for w in words if re.fullmatch(r"[A-Z_]+=.*", w)]
        assert {a.partition("=")[0] for a in assignments} <= SETTING_NAMES
        kinds[kind] = parse_command(words[len(assignments) :])
    assert set(kinds) == {"web", "worker"}
    assert kinds["web"][0] == "serve" and kinds["worker"][0] == "worker"


def test_each_compose_process_parses_sets_only_settings_and_has_its_own_executor() -> None:
    services = dossier_services()
    assert len(services) == 4
    executors = []
    for name, service in services.items():
        env = service["environment"]
        assert set(env) <= SETTING_NAMES, f"{name}: {set(env) - SETTING_NAMES}"
        executors.append(env["DOSSIER_EXECUTOR_ID"])
        command, options = parse_command(service["command"])
        port = options["port"]
        probe = " ".join(service["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/" in probe, f"{name} probes another port than {port}"
        # replicas behind the balancer serve; workers run the research
        assert (env.get("DOSSIER_ROLE") == "api") == (command == "serve"), name
    assert len(set(executors)) == len(executors), "an executor id shared by two processes"


def test_the_balancer_points_at_every_api_replica_and_outlasts_the_heartbeat() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    upstream = re.search(r"upstream dossier_api \{([^}]*)\}", conf)
    assert upstream is not None
    servers = set(re.findall(r"server ([\w.-]+:\d+);", upstream.group(1)))
    replicas = {
        f"{name}:{parse_command(s['command'])[1]['port']}"
        for name, s in dossier_services().items()
        if s["environment"].get("DOSSIER_ROLE") == "api"
    }
    assert servers == replicas
    heartbeat = Settings.model_fields["sse_heartbeat_s"].default
    for timeout in ("proxy_read_timeout", "proxy_send_timeout"):
        found = re.search(rf"{timeout} (\d+)s;", conf)
        assert found is not None and int(found.group(1)) > 4 * heartbeat, timeout
    assert "proxy_buffering off;" in conf
    body = re.search(r"client_max_body_size (\d+)k;", conf)
    assert body is not None
    assert int(body.group(1)) * 1024 == Settings.model_fields["max_body_bytes"].default
    assert compose()["services"]["lb"]["ports"] == ["8000:8000"]


def test_the_image_starts_a_server_the_cli_accepts_on_a_port_it_exposes() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    exposed = re.search(r"^EXPOSE ([\d ]+)$", dockerfile, re.MULTILINE)
    assert cmd is not None and exposed is not None
    _, options = parse_command(yaml.safe_load(cmd.group(1)))
    ports = {int(p) for p in exposed.group(1).split()}
    assert options["port"] in ports
    workers = [s for s in dossier_services().values() if s["command"][1] == "worker"]
    assert {parse_command(s["command"])[1]["port"] for s in workers} <= ports


def test_a_typo_in_a_deploy_command_would_be_caught() -> None:
    with pytest.raises(Exception, match="No such option: --prot"):
        parse_command(["dossier", "serve", "--prot", "1"])
    with pytest.raises(KeyError):
        parse_command(["dossier", "wrker"])
