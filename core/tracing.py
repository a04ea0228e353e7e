"""The request id, carried from the HTTP request into workflows and activities.

A Temporal interceptor (client and worker side): the API's calls put the current request id
in a header; a workflow takes it from its start (or from the update / signal being handled)
and passes it on to the activities and children it starts; an activity sets it, with its
workflow id, run id, type and attempt, for every log line it writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager, suppress
from typing import Any, Protocol

import temporalio.activity
import temporalio.api.common.v1
import temporalio.client
import temporalio.converter
import temporalio.worker
import temporalio.workflow

from contracts.tracing import REQUEST_ID_HEADER, activity_context_var, request_id_var

Payload = temporalio.api.common.v1.Payload
_CONVERTER = temporalio.converter.default().payload_converter


class _WithHeaders(Protocol):
    headers: Mapping[str, Payload]


def _put(input: _WithHeaders) -> None:
    request_id = request_id_var.get()
    if request_id != "-":
        input.headers = {**input.headers, REQUEST_ID_HEADER: _CONVERTER.to_payload(request_id)}


@contextmanager
def _taken_from(headers: Mapping[str, Payload] | MutableMapping[str, Payload]) -> Iterator[None]:
    payload = headers.get(REQUEST_ID_HEADER)
    token = request_id_var.set(_CONVERTER.from_payload(payload, str)) if payload else None
    try:
        yield
    finally:
        if token is not None:
            # A workflow evicted from the worker's cache has its coroutine closed from another
            # context, which is being discarded anyway: nothing to restore there.
            with suppress(ValueError):
                request_id_var.reset(token)


class TracingInterceptor(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    """Set on the API's client and on the worker (the suite's too)."""

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _ClientOutbound(next)

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        return _WorkflowInbound


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    async def start_workflow(
        self, input: temporalio.client.StartWorkflowInput
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        _put(input)
        return await self.next.start_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        _put(input)
        await self.next.signal_workflow(input)

    async def start_workflow_update(
        self, input: temporalio.client.StartWorkflowUpdateInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        _put(input)
        return await self.next.start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: temporalio.client.StartWorkflowUpdateWithStartInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        _put(input.start_workflow_input)
        _put(input.update_workflow_input)
        return await self.next.start_update_with_start_workflow(input)


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        info = temporalio.activity.info()
        context = {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "activity": info.activity_type,
            "attempt": info.attempt,
        }
        token = activity_context_var.set(context)
        try:
            with _taken_from(input.headers):
                # Sync activities run in the worker's thread pool with a copy of this context.
                return await self.next.execute_activity(input)
        finally:
            activity_context_var.reset(token)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        self.next.init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        with _taken_from(input.headers):
            return await self.next.execute_workflow(input)

    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        with _taken_from(input.headers):
            await self.next.handle_signal(input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        with _taken_from(input.headers):
            return await self.next.handle_update_handler(input)


class _WorkflowOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(
        self, input: temporalio.worker.StartActivityInput
    ) -> temporalio.workflow.ActivityHandle[Any]:
        _put(input)
        return self.next.start_activity(input)

    def start_local_activity(
        self, input: temporalio.worker.StartLocalActivityInput
    ) -> temporalio.workflow.ActivityHandle[Any]:
        _put(input)
        return self.next.start_local_activity(input)

    async def start_child_workflow(
        self, input: temporalio.worker.StartChildWorkflowInput
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        _put(input)
        return await self.next.start_child_workflow(input)
