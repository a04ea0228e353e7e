"""docker-compose.yml as `docker compose config` would read it (no Docker engine here).

The files are interpolated like Compose does (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`),
merged with the development overlay, and validated against the Compose specification's
JSON schema (`compose_spec.json`, as shipped in the `docker-compose` 1.29.2 package) with
the `jsonschema` library; then the rules an operator relies on are checked one by one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from contracts.search_attributes import ALL as SEARCH_ATTRIBUTES
from core.metrics import registry
from core.settings import ROOT_DIR, Settings

HERE = Path(__file__).parent
VARIABLE = re.compile(
    r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:-|:\?)(?P<arg>(?:[^{}]|\{[^{}]*\})*))?\}"
)
REQUIRED_ENV = {
    "POSTGRES_PASSWORD": "pg-secret",
    "TEMPORAL_DB_PASSWORD": "temporal-secret",
    "S3_SECRET_KEY": "s3-secret",
    "JWT_SECRET": "j" * 48,
    "FERNET_KEY": "ZGV2LW9ubHktZmVybmV0LWtleS1mb3ItY29tcG9zZS0=",
    "BANK_CLIENT_ID": "team042",
    "BANK_CLIENT_SECRET": "bank-secret",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret",
    "TELEGRAM_BOT_TOKEN": "123456:telegram-secret",
    "TELEGRAM_BOT_USERNAME": "jivapay_bot",
    "SMTP_HOST": "smtp.example.com",
    "SMTP_FROM": "JivaPay <notifications@example.com>",
    "ALERT_WEBHOOK_URL": "https://oncall.example.com/hooks/alerts?token=alert-secret",
}
JOBS = {"migrate", "create-bucket", "temporal-setup"}


def interpolate(text: str, env: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op == ":-":
            return arg or ""
        raise KeyError(f"${name} must be set: {arg}")

    return VARIABLE.sub(value, text.replace("$$", "\0")).replace("\0", "$")


def interpolated(value: Any, env: dict[str, str]) -> Any:
    """Like Compose: variables are replaced in the parsed file's string values."""
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, dict):
        return {k: interpolated(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolated(v, env) for v in value]
    return value


def load(name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    loaded: dict[str, Any] = interpolated(
        yaml.safe_load((ROOT_DIR / name).read_text()), env or REQUIRED_ENV
    )
    return loaded


def merged(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in overlay.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        result[key] = merged(base[key], value) if both else value
    return result


COMPOSE = load("docker-compose.yml")
DEV = merged(COMPOSE, load("compose.dev.yml"))
SERVICES: dict[str, Any] = COMPOSE["services"]
SCHEMA = json.loads((HERE / "compose_spec.json").read_text())


@pytest.mark.parametrize("document", [COMPOSE, DEV], ids=["production", "development"])
def test_compose_files_follow_the_compose_specification(document: dict[str, Any]) -> None:
    jsonschema.Draft201909Validator(SCHEMA).validate(document)


def test_required_secrets_must_be_given() -> None:
    for missing in REQUIRED_ENV:
        env = {k: v for k, v in REQUIRED_ENV.items() if k != missing}
        with pytest.raises(KeyError, match=missing):
            load("docker-compose.yml", env)


def test_every_image_is_pinned() -> None:
    version = tomllib.loads((ROOT_DIR / "pyproject.toml").read_text())["project"]["version"]
    for name, service in DEV["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image}"
        if "build" in service:
            assert image == f"jivapay:{version}", f"{name} builds our image: {image}"


def test_every_dependency_waits_for_health_or_completion() -> None:
    for name, service in DEV["services"].items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, rule in depends.items():
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in DEV["services"][target], f"{name} → {target}"
            else:
                assert condition == "service_completed_successfully", f"{name} → {target}"
                assert target in JOBS and SERVICES[target]["restart"] == "no"


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in DEV["services"].items():
        assert name in JOBS or "healthcheck" in service, name


@pytest.mark.parametrize("name", ["api", "worker", "migrate", "create-bucket"])
def test_the_application_gets_every_setting_it_needs(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = {field.upper() for field in Settings.model_fields}
    env = dict(SERVICES[name]["environment"])
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # read by prometheus_client itself
    unknown = set(env) - fields
    assert not unknown, f"{name} sets variables Settings does not read: {unknown}"
    for field in fields:
        monkeypatch.delenv(field, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, "" if value is None else str(value))
    # Read from the environment exactly as the container will (production validation on).
    settings = Settings(_env_file=None)
    assert settings.environment == "production" and not settings.uses_sqlite
    assert settings.redis_url and settings.bank_client_secret.get_secret_value()


def test_the_emulator_is_only_in_the_development_overlay() -> None:
    assert "bank-emulator" not in SERVICES
    assert "bank-emulator" not in json.dumps(COMPOSE)
    assert "bank-emulator" in DEV["services"]
    urls = json.loads(DEV["services"]["worker"]["environment"]["BANK_BASE_URLS"])
    assert all("bank-emulator" in url for url in urls.values())


def test_published_ports_bind_loopback_and_agree_with_settings() -> None:
    defaults = Settings()
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: {port}"
    assert SERVICES["api"]["ports"][0].endswith(f":{defaults.api_port}")
    assert SERVICES["temporal-ui"]["ports"][0].startswith(f"127.0.0.1:{defaults.temporal_ui_port}:")
    assert SERVICES["seaweedfs"]["ports"][0].endswith(":8333")
    # A port range lets several API replicas publish on the host at once.
    assert "-" in SERVICES["api"]["ports"][0].split(":")[1]
    for service in ("api", "worker"):
        assert "container_name" not in SERVICES[service]


def test_search_attributes_are_registered() -> None:
    setup = " ".join(SERVICES["temporal-setup"]["command"])
    for key in SEARCH_ATTRIBUTES:
        assert key.name in setup


def test_prometheus_scrapes_the_ports_the_services_serve() -> None:
    config = yaml.safe_load((ROOT_DIR / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        (sd["names"][0], sd["port"])
        for job in config["scrape_configs"]
        for sd in job["dns_sd_configs"]
    }
    worker_env = SERVICES["worker"]["environment"]
    assert targets == {
        ("api", int(SERVICES["api"]["environment"]["API_PORT"])),
        ("worker", int(worker_env["WORKER_APP_METRICS_PORT"])),
        ("worker", int(worker_env["WORKER_SDK_METRICS_PORT"])),
    }


def test_prometheus_loads_the_alerts_and_sends_them_to_alertmanager() -> None:
    config = yaml.safe_load((ROOT_DIR / "deploy/prometheus/prometheus.yml").read_text())
    prometheus, alertmanager = SERVICES["prometheus"], SERVICES["alertmanager"]
    # The rule file sits next to the config in the container, as it does in the repository.
    assert config["rule_files"] == ["alerts.yml"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in prometheus["volumes"]
    [target] = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host == "alertmanager" and alertmanager["ports"] == [f"127.0.0.1:{port}:{port}"]
    mounted = "./deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro"
    assert mounted in alertmanager["volumes"]


def test_alertmanager_gets_its_webhook_from_the_environment(tmp_path: Path) -> None:
    """The start command, run here as the container runs it (minus the exec): the committed
    file's placeholder becomes ALERT_WEBHOOK_URL, query string and all."""
    committed = ROOT_DIR / "deploy/alertmanager/alertmanager.yml"
    assert "alert-secret" not in committed.read_text()
    url = REQUIRED_ENV["ALERT_WEBHOOK_URL"] + "&x=a\\b"
    [line] = SERVICES["alertmanager"]["command"]
    prepare, _, start = line.partition("&& exec ")
    written_in_container = "/tmp/alertmanager.yml"  # noqa: S108 - the container's own /tmp
    assert start.startswith(f"/bin/alertmanager --config.file={written_in_container}")
    prepare = prepare.replace("/etc/alertmanager/alertmanager.yml", str(committed))
    prepare = prepare.replace(written_in_container, str(tmp_path / "am.yml"))
    env = {"PATH": os.environ["PATH"], "ALERT_WEBHOOK_URL": url}
    subprocess.run(["sh", "-c", prepare], env=env, check=True, timeout=30)
    written = yaml.safe_load((tmp_path / "am.yml").read_text())
    assert written["receivers"][0]["webhook_configs"][0]["url"] == url
    assert written["route"] == yaml.safe_load(committed.read_text())["route"]


def test_the_dashboard_queries_metrics_that_exist() -> None:
    dashboard = json.loads((ROOT_DIR / "deploy/grafana/dashboards/jivapay.json").read_text())
    ours = {metric.name for metric in registry().collect()} | {
        "jivapay_orders",
        "jivapay_consents",
        "jivapay_bank_connections",
        "jivapay_callback_deliveries",
        "jivapay_sync_lag_seconds",
    }
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for name in re.findall(r"\b(jivapay_[a-z_]+?)(?:_bucket|_count|_total)?\b", expr):
                assert name in ours or name.removesuffix("_total") in ours, name
            assert "jivapay_" in expr or "temporal_" in expr


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT_DIR / "Dockerfile").read_text()
    packages = [p.name for p in ROOT_DIR.iterdir() if (p / "__init__.py").exists()]
    for package in set(packages) - {"tests", "bench"}:
        assert f"COPY {package} ./{package}" in dockerfile, package
    assert (ROOT_DIR / "worker.py").exists()
