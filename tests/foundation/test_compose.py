"""docker-compose.yml agrees with the settings (no Docker engine here, so it is parsed)."""

from __future__ import annotations

from pathlib import Path

import yaml

from contracts.search_attributes import ALL as SEARCH_ATTRIBUTES
from core.settings import ROOT_DIR, Settings

COMPOSE = yaml.safe_load((ROOT_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_production_shape_services_exist() -> None:
    expected = {"postgres", "redis", "temporal", "temporal-ui", "seaweedfs", "api", "worker"}
    assert expected <= set(SERVICES)
    assert SERVICES["temporal"]["environment"]["DB"].startswith("postgres")


def test_app_environment_names_are_settings_fields() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for service in ("api", "worker", "migrate"):
        env = SERVICES[service]["environment"]
        unknown = set(env) - fields
        assert not unknown, f"{service} sets variables Settings does not read: {unknown}"
        assert {"DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS", "S3_ENDPOINT_URL"} <= set(env)
        assert env["ENVIRONMENT"] == "production"


def test_ports_agree_with_settings() -> None:
    defaults = Settings()
    api_ports = SERVICES["api"]["ports"][0]
    assert api_ports.endswith(f":{defaults.api_port}")
    assert SERVICES["api"]["environment"]["API_PORT"] == str(defaults.api_port)
    assert SERVICES["temporal-ui"]["ports"][0].startswith(f"127.0.0.1:{defaults.temporal_ui_port}:")
    assert SERVICES["seaweedfs"]["ports"][0].endswith(":8333")
    assert defaults.s3_endpoint_url.endswith(":8333")


def test_api_and_worker_can_scale() -> None:
    for service in ("api", "worker"):
        assert "container_name" not in SERVICES[service]
    # A port range lets several API replicas publish on the host at once.
    assert "-" in SERVICES["api"]["ports"][0].split(":")[1]


def test_search_attributes_registered() -> None:
    setup = " ".join(SERVICES["temporal-setup"]["command"])
    for key in SEARCH_ATTRIBUTES:
        assert key.name in setup


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT_DIR / "Dockerfile").read_text()
    for package in ("api", "workflows", "activities", "models", "core", "contracts", "migrations"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert Path(ROOT_DIR / "worker.py").exists()
