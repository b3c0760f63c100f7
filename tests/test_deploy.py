"""The recipes in deploy/, linted as far as a machine without Docker can: the compose file
parses and wires what the daemon needs, the unit passes `systemd-analyze verify`, the
Dockerfile runs `dify-batch serve` as a non-root user with a health check, and the
container's config is one the daemon accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config_loader import load_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_compose_runs_the_daemon_on_a_healthy_postgres_with_secrets_from_an_env_file() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    pg, daemon = services["postgres"], services["daemon"]
    assert pg["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert any(v.startswith("pgdata:") for v in pg["volumes"])
    assert pg["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")

    assert daemon["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert daemon["env_file"] == ".env"
    assert daemon["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(daemon["healthcheck"]["test"])
    url = daemon["environment"]["DIFY_BATCH_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://difybatch:${POSTGRES_PASSWORD}@postgres:5432/")
    assert any(v.startswith("data:/var/lib/dify-batch/data") for v in daemon["volumes"])
    assert set(compose["volumes"]) == {"pgdata", "data"}
    # every secret the config names is one the env file example provides
    example = (DEPLOY / "env.example").read_text(encoding="utf-8")
    for name in ("POSTGRES_PASSWORD", "TELEGRAM_BOT_TOKEN", "DIFY_SUMMARIZE_KEY"):
        assert re.search(rf"^{name}=", example, re.M), name


def test_the_container_config_is_valid_and_keeps_the_password_out_of_the_file() -> None:
    env = {
        "DIFY_BATCH_DATABASE_URL": "postgresql+asyncpg://difybatch:pw@postgres:5432/difybatch",
        "TELEGRAM_BOT_TOKEN": "1:x", "DIFY_SUMMARIZE_KEY": "app-x",
    }
    config = load_config(DEPLOY / "config.toml", env)
    d = config.daemon
    assert d.database_url == env["DIFY_BATCH_DATABASE_URL"]
    assert (d.http_host, d.http_port, d.log_format) == ("0.0.0.0", 8080, "json")
    assert str(d.data_dir) == "/var/lib/dify-batch/data"


def test_the_dockerfile_runs_serve_as_a_non_root_user_with_a_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages and all(s.startswith("python:3.11-slim") for s in stages)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users == ["dify-batch"]
    assert text.index("USER dify-batch") < text.index("CMD ")
    assert re.search(r'^CMD \["dify-batch", "serve"\]$', text, re.M)
    health = re.search(r"^HEALTHCHECK .*\n(?:\s+.*\n)*", text, re.M)
    assert health and "http://127.0.0.1:8080/healthz" in health.group(0)
    # what the image copies exists, and the copied config listens where the check asks
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for part in source.split():
            assert (DEPLOY.parent / part).exists(), part


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "dify-batch.service").read_text(encoding="utf-8")
    assert "User=dify-batch" in unit and "Restart=on-failure" in unit and "NoNewPrivileges=yes" in unit
    assert "RestartPreventExitStatus=2" in unit
    # verify checks that ExecStart exists: point it at this checkout's command
    here = Path(sys.executable).with_name("dify-batch")
    local = tmp_path / "dify-batch.service"
    local.write_text(unit.replace("/opt/dify-batch/bin/dify-batch", str(here)), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
