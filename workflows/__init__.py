"""Temporal workflows: decisions, timers and state only; no I/O (see STYLE.md)."""

from workflows.callback import CallbackWorkflow
from workflows.consents import RevokeConsentWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.payin import PayinWorkflow
from workflows.recategorise import RecategoriseWorkflow
from workflows.refresh import RefreshWorkflow
from workflows.sync import SyncWorkflow

WORKFLOWS: list[type] = [OnboardingWorkflow, SyncWorkflow]
WORKFLOWS += [PayinWorkflow, CallbackWorkflow]
WORKFLOWS += [RefreshWorkflow, RecategoriseWorkflow]
WORKFLOWS += [RevokeConsentWorkflow]
