"""Sentry for the API and the worker: off without `SENTRY_DSN`, with release and
environment, and every event scrubbed of secrets and card numbers before it leaves.

The worker reports through a Temporal interceptor: unexpected exceptions of activities and
workflow code (bugs), tagged with workflow type, id and run; business refusals
(`ApplicationError`) are outcomes, not errors, and are not reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import sentry_sdk
import temporalio.activity
import temporalio.worker
import temporalio.workflow
from temporalio.exceptions import ApplicationError, FailureError

from core.logging import redact_secrets
from core.settings import Settings

SECRET_HEADERS = {"authorization", "x-api-key", "cookie", "set-cookie", "x-emulator-admin"}
SECRET_KEYS = re.compile(r"(?i)secret|password|token|api_key|signature|fernet|dsn")
# 13–19 digits, optionally grouped: a card or account number; only its last four survive.
CARD_NUMBER = re.compile(r"\b(?:\d[ -]?){9,15}(\d{4})\b")
MASK = "***"


def release() -> str:
    try:
        return f"jivapay@{version('jivapay')}"
    except PackageNotFoundError:
        return "jivapay@unknown"


def scrub(value: Any, key: str = "") -> Any:
    """Secrets by key name, bearer tokens and query secrets in text, card numbers to last 4."""
    if key and (SECRET_KEYS.search(key) or key.lower() in SECRET_HEADERS):
        return MASK
    if isinstance(value, str):
        return CARD_NUMBER.sub(r"****\1", redact_secrets(value))
    if isinstance(value, Mapping):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Header lists come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and value[0].lower() in SECRET_HEADERS:
            return [value[0], MASK]
        return [scrub(v) for v in value]
    return value


def before_send(event: Any, hint: Any) -> Any:
    scrubbed: Any = scrub(event)
    return scrubbed


def init_sentry(settings: Settings, component: str) -> bool:
    """Start reporting to Sentry; False (and nothing sent) when no DSN is configured."""
    if not settings.sentry_dsn:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        release=release(),
        server_name=component,
        send_default_pii=False,
        before_send=before_send,
        before_breadcrumb=before_send,
    )
    sentry_sdk.set_tag("component", component)
    return True


def _reportable(exc: BaseException) -> bool:
    return not isinstance(exc, ApplicationError | FailureError)


class _Activities(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        with sentry_sdk.isolation_scope() as scope:
            info = temporalio.activity.info()
            scope.set_tag("temporal.workflow.type", info.workflow_type)
            scope.set_tag("temporal.workflow.id", info.workflow_id)
            scope.set_tag("temporal.workflow.run_id", info.workflow_run_id)
            scope.set_tag("temporal.activity.type", info.activity_type)
            scope.set_tag("temporal.activity.attempt", str(info.attempt))
            try:
                return await self.next.execute_activity(input)
            except Exception as exc:
                if _reportable(exc):
                    scope.capture_exception(exc)
                raise


class _Workflows(temporalio.worker.WorkflowInboundInterceptor):
    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        try:
            return await self.next.execute_workflow(input)
        except Exception as exc:
            if _reportable(exc) and not temporalio.workflow.unsafe.is_replaying():
                info = temporalio.workflow.info()
                with temporalio.workflow.unsafe.sandbox_unrestricted():
                    with sentry_sdk.isolation_scope() as scope:
                        scope.set_tag("temporal.workflow.type", info.workflow_type)
                        scope.set_tag("temporal.workflow.id", info.workflow_id)
                        scope.set_tag("temporal.workflow.run_id", info.run_id)
                        scope.capture_exception(exc)
            raise


class SentryInterceptor(temporalio.worker.Interceptor):
    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        return _Activities(next)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        return _Workflows
