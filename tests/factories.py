"""Builders for stored rows, with defaults a test overrides only where it cares."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from campaign_executions.domain import Channel, ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.models import (
    CampaignModel,
    CampaignStepModel,
    ExecutionModel,
    RecipientModel,
    StepExecutionModel,
)

BASE_TIME = datetime(2026, 7, 10, 6, 0, tzinfo=UTC)

SEED_CAMPAIGN_ID = uuid.UUID("3c4d5e60-0000-0000-0000-000000000001")
SEED_EXECUTION_ID = uuid.UUID("4a5b6c70-0000-0000-0000-000000000001")
SEED_DETAILS = {
    "id": "4a5b6c70-0000-0000-0000-000000000001",
    "campaignId": "3c4d5e60-0000-0000-0000-000000000001",
    "status": 1,
    "scheduledFor": "2026-07-10T06:00:00Z",
    "startedAt": "2026-07-10T06:00:03Z",
    "completedAt": None,
    "totalRecipients": 842,
    "totalDispatched": 610,
    "totalSucceeded": 598,
    "totalFailed": 12,
    "correlationId": "campaign-exec-7f8e9d",
    "errorMessage": None,
}


def step(
    step_number: int,
    *,
    channel: Channel = Channel.EMAIL,
    totals: tuple[int, int, int] = (0, 0, 0),
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED,
) -> StepExecutionModel:
    """A step execution; `totals` is (dispatched, succeeded, failed)."""
    dispatched, succeeded, failed = totals
    return StepExecutionModel(
        step_number=step_number,
        channel=int(channel),
        status=int(status),
        total_dispatched=dispatched,
        total_succeeded=succeeded,
        total_failed=failed,
    )


def execution(
    *,
    campaign_id: uuid.UUID,
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED,
    scheduled_for: datetime = BASE_TIME,
    steps: Sequence[StepExecutionModel] = (),
    **fields: Any,
) -> ExecutionModel:
    """An execution whose totals default to the sums of its steps."""
    totals = {
        "total_dispatched": sum(s.total_dispatched for s in steps),
        "total_succeeded": sum(s.total_succeeded for s in steps),
        "total_failed": sum(s.total_failed for s in steps),
        "total_recipients": max((s.total_dispatched for s in steps), default=0),
    }
    model = ExecutionModel(
        id=fields.pop("id", None) or uuid.uuid4(),
        campaign_id=campaign_id,
        status=int(status),
        scheduled_for=scheduled_for,
        **(totals | fields),
    )
    model.steps = list(steps)
    return model


def spread(
    count: int, *, campaign_id: uuid.UUID, **fields: Any
) -> list[ExecutionModel]:
    """`count` executions an hour apart, oldest first."""
    return [
        execution(
            campaign_id=campaign_id,
            scheduled_for=BASE_TIME + timedelta(hours=index),
            **fields,
        )
        for index in range(count)
    ]


async def store(database: Database, *models: ExecutionModel) -> None:
    async with database.write() as session:
        session.add_all(models)


def campaign(
    *,
    steps: Sequence[tuple[Channel, str]] = ((Channel.EMAIL, "all"),),
    recipients: int = 10,
    active: bool = True,
) -> tuple[CampaignModel, list[RecipientModel]]:
    """A campaign with `steps` as (channel, audience) and that many recipients."""
    model = CampaignModel(id=uuid.uuid4(), name="Test campaign", is_active=active)
    model.steps = [
        CampaignStepModel(step_number=number, channel=int(channel), audience=rule)
        for number, (channel, rule) in enumerate(steps, start=1)
    ]
    people = [
        RecipientModel(id=uuid.uuid4(), campaign_id=model.id, address=f"r{n}@x.test")
        for n in range(recipients)
    ]
    return model, people


async def store_campaign(
    database: Database, model: CampaignModel, people: Sequence[RecipientModel]
) -> None:
    async with database.write() as session:
        session.add(model)
        await session.flush()
        session.add_all(people)
