"""The alert rules (deploy/prometheus/alerts.yml): valid for Prometheus, each one fires on the
series its unit tests give and stays quiet on the others (`promtool test rules`), each one
documented, and every metric they read exported by a running API or worker."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import yaml
from temporalio.client import Client
from temporalio.service import RPCError

from contracts.rates import rates_schedule_id
from core.context import ServiceContext
from core.settings import ROOT_DIR
from launcher.services import free_port, start_process
from tests.factories import worker_env

PROMETHEUS = ROOT_DIR / "deploy/prometheus"
RULES = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
ALERTS = {rule["alert"]: rule for group in RULES["groups"] for rule in group["rules"]}
# Made by Prometheus itself for every target, not by our processes.
PROMETHEUS_OWN = {"up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
PROMQL_WORDS |= {"and", "or", "unless", "offset"}
FAMILY_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def promtool(*args: str) -> str:
    binary = shutil.which("promtool")
    # .ci/run installs it (Debian's prometheus package): a missing promtool is a failure.
    assert binary, "promtool not found: apt-get install -y prometheus (see .ci/run)"
    done = subprocess.run(
        [binary, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_accepts_the_config_and_the_rules() -> None:
    checked = promtool("check", "config", "prometheus.yml")
    assert "1 rule files found" in checked
    assert f"SUCCESS: {len(ALERTS)} rules found" in promtool("check", "rules", "alerts.yml")


def test_every_alert_fires_and_stays_quiet_in_the_rule_unit_tests() -> None:
    """`promtool test rules` passes, and it has, for every alert, a case where it fires and
    one where it must not."""
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")
    cases = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    checks = [check for case in cases for check in case["alert_rule_test"]]
    fired = {check["alertname"] for check in checks if check["exp_alerts"]}
    quiet = {check["alertname"] for check in checks if not check["exp_alerts"]}
    assert fired == set(ALERTS) and quiet == set(ALERTS)


def test_every_alert_says_what_it_means_and_where_to_look() -> None:
    runbook = (ROOT_DIR / "docs/operations.md").read_text()
    for name, rule in ALERTS.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{name.lower()}"
        assert re.search(rf"^#### {name}$", runbook, re.MULTILINE), f"{name} not documented"


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: label matchers, grouping clauses,
    function names, keywords and numbers left out."""
    text = re.sub(r"\{[^}]*\}", " ", expr)
    text = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()[:1]
        if following != "(" and match.group() not in PROMQL_WORDS:
            names.add(match.group())
    return names


def test_the_tokenizer_finds_metrics_not_functions_or_labels() -> None:
    expr = ALERTS["WorkflowTaskScheduleToStartHigh"]["expr"]
    assert metric_names(expr) == {
        "temporal_workflow_task_schedule_to_start_latency_count",
        "temporal_workflow_task_schedule_to_start_latency_bucket",
    }
    assert metric_names(ALERTS["ApiDown"]["expr"]) == {"up"}


def exported(scrape: str) -> set[str]:
    """Sample names and family names (a `# TYPE` line counts, even with no sample yet)."""
    names = set(re.findall(r"^# TYPE (\S+) ", scrape, re.MULTILINE))
    return names | set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", scrape, re.MULTILINE))


def family(name: str) -> str:
    return next((name.removesuffix(s) for s in FAMILY_SUFFIXES if name.endswith(s)), name)


async def _scrape(port: int, until: str = "", limit_s: float = 60) -> str:
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                body = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                if until in body:
                    return body
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"no {until!r} on :{port} in {limit_s} s"
            await asyncio.sleep(0.3)


async def _run_a_workflow(client: Client, queue: str, limit_s: float = 60) -> None:
    """The worker's schedules exist once it polls; run the rates refresh now (a workflow
    task and an activity: the SDK's schedule-to-start histograms get their first samples)."""
    deadline = time.monotonic() + limit_s
    handle = client.get_schedule_handle(rates_schedule_id(queue))
    while True:
        try:
            await handle.trigger()
            return
        except RPCError:
            assert time.monotonic() < deadline, "the worker never created its schedules"
            await asyncio.sleep(0.3)


async def test_every_metric_an_alert_reads_is_exported(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, tmp_path: Path
) -> None:
    sdk_port, app_port = free_port(), free_port()
    queue = f"alerts-{uuid.uuid4().hex[:8]}"
    env = worker_env(ctx, queue)
    env.update(WORKER_SDK_METRICS_PORT=str(sdk_port), WORKER_APP_METRICS_PORT=str(app_port))
    proc = start_process("worker", [sys.executable, "worker.py"], tmp_path / "worker.log", env)
    try:
        worker_app = await _scrape(app_port)
        await _run_a_workflow(temporal_client, queue)
        sdk = await _scrape(sdk_port, until="temporal_activity_schedule_to_start_latency_count")
    finally:
        proc.stop()
    api_scrape = (await api.get("/metrics")).text
    names = exported(api_scrape) | exported(worker_app) | exported(sdk)
    used = {alert: metric_names(rule["expr"]) for alert, rule in ALERTS.items()}
    assert all(used.values())
    missing = {
        alert: sorted(n for n in metrics - PROMETHEUS_OWN if {n, family(n)}.isdisjoint(names))
        for alert, metrics in used.items()
    }
    assert {alert: m for alert, m in missing.items() if m} == {}
