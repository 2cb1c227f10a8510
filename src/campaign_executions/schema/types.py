"""Object types for executions, their steps and per-step summaries, and builders.

Each GraphQL type is built from its storage record in one function below.
"""

import uuid
from datetime import datetime

import strawberry

from campaign_executions.domain import delivery_rate
from campaign_executions.storage.analytics import StepSummary
from campaign_executions.storage.models import ExecutionModel, StepExecutionModel

from .context import GraphQLContext
from .enums import Channel, ExecutionStatus

_RATE = "Succeeded over dispatched in percent, 2 places half-to-even; 0 if none."


def rate_of(succeeded: int, dispatched: int) -> float:
    """The delivery rate as a float of the exactly rounded decimal."""
    return float(delivery_rate(succeeded, dispatched))


@strawberry.type(description="One step of one execution, with its own totals.")
class StepExecution:
    """A step execution as clients see it."""

    step_number: int = strawberry.field(description="1-based position of the step.")
    channel: Channel = strawberry.field(description="The step's channel.")
    channel_code: int = strawberry.field(description="The channel's numeric code.")
    status: ExecutionStatus = strawberry.field(description="The step's status.")
    status_code: int = strawberry.field(description="The status's numeric code.")
    started_at: datetime | None = strawberry.field(
        description="When the step started; null until it does."
    )
    completed_at: datetime | None = strawberry.field(
        description="When the step ended; null until it does."
    )
    total_dispatched: int = strawberry.field(description="Messages handed out.")
    total_succeeded: int = strawberry.field(description="Messages delivered.")
    total_failed: int = strawberry.field(description="Messages that failed.")
    delivery_rate: float = strawberry.field(description=_RATE)


async def load_steps(
    root: "CampaignExecution", info: strawberry.Info[GraphQLContext, None]
) -> list[StepExecution]:
    """Through the request's DataLoader: one query for all executions asked for."""
    return await info.context.loaders.steps.load(root.id)


@strawberry.type(description="One scheduled run of a campaign, with live totals.")
class CampaignExecution:
    """An execution as clients see it; its steps load in one batch per request."""

    id: uuid.UUID = strawberry.field(description="The execution's id.")
    campaign_id: uuid.UUID = strawberry.field(description="The campaign it runs.")
    status: ExecutionStatus = strawberry.field(description="Where the run stands.")
    status_code: int = strawberry.field(description="The status's numeric code.")
    scheduled_for: datetime = strawberry.field(description="When the run is due.")
    started_at: datetime | None = strawberry.field(
        description="When the run started; null until it does."
    )
    completed_at: datetime | None = strawberry.field(
        description="When the run ended (or was cancelled); null until then."
    )
    total_recipients: int = strawberry.field(description="Recipients targeted.")
    total_dispatched: int = strawberry.field(description="Messages handed out.")
    total_succeeded: int = strawberry.field(description="Messages delivered.")
    total_failed: int = strawberry.field(description="Messages that failed.")
    correlation_id: str | None = strawberry.field(
        description="The caller's correlation id, if one was given."
    )
    error_message: str | None = strawberry.field(
        description="Why the run failed; null unless it did."
    )
    delivery_rate: float = strawberry.field(description=_RATE)
    steps: list[StepExecution] = strawberry.field(
        resolver=load_steps,
        description="The run's step executions, by step number.",
    )


@strawberry.type(description="Totals of one step across all of a campaign's runs.")
class CampaignStepSummary:
    """One (step number, channel) row of a campaign's analytics."""

    step_number: int = strawberry.field(description="1-based position of the step.")
    channel: Channel = strawberry.field(description="The step's channel.")
    channel_code: int = strawberry.field(description="The channel's numeric code.")
    total_dispatched: int = strawberry.field(description="Messages handed out.")
    total_succeeded: int = strawberry.field(description="Messages delivered.")
    total_failed: int = strawberry.field(description="Messages that failed.")
    delivery_rate: float = strawberry.field(description=_RATE)


def execution_from_model(model: ExecutionModel) -> CampaignExecution:
    """The GraphQL execution for a stored one."""
    status = ExecutionStatus(model.status)
    return CampaignExecution(
        id=model.id,
        campaign_id=model.campaign_id,
        status=status,
        status_code=int(status),
        scheduled_for=model.scheduled_for,
        started_at=model.started_at,
        completed_at=model.completed_at,
        total_recipients=model.total_recipients,
        total_dispatched=model.total_dispatched,
        total_succeeded=model.total_succeeded,
        total_failed=model.total_failed,
        correlation_id=model.correlation_id,
        error_message=model.error_message,
        delivery_rate=rate_of(model.total_succeeded, model.total_dispatched),
    )


def step_from_model(model: StepExecutionModel) -> StepExecution:
    """The GraphQL step execution for a stored one."""
    channel, status = Channel(model.channel), ExecutionStatus(model.status)
    return StepExecution(
        step_number=model.step_number,
        channel=channel,
        channel_code=int(channel),
        status=status,
        status_code=int(status),
        started_at=model.started_at,
        completed_at=model.completed_at,
        total_dispatched=model.total_dispatched,
        total_succeeded=model.total_succeeded,
        total_failed=model.total_failed,
        delivery_rate=rate_of(model.total_succeeded, model.total_dispatched),
    )


def summary_from_record(record: StepSummary) -> CampaignStepSummary:
    """The GraphQL step summary for an aggregated storage record."""
    channel = Channel(record.channel)
    return CampaignStepSummary(
        step_number=record.step_number,
        channel=channel,
        channel_code=int(channel),
        total_dispatched=record.total_dispatched,
        total_succeeded=record.total_succeeded,
        total_failed=record.total_failed,
        delivery_rate=float(record.delivery_rate),
    )
