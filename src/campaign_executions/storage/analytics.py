"""Per-step delivery figures aggregated over a campaign's executions."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_executions.domain import delivery_rate

from .models import ExecutionModel, StepExecutionModel


@dataclass(frozen=True)
class StepSummary:
    """Totals of one (step number, channel) across every execution."""

    step_number: int
    channel: int
    total_dispatched: int
    total_succeeded: int
    total_failed: int

    @property
    def delivery_rate(self) -> Decimal:
        """Succeeded over dispatched, in percent, rounded half-to-even."""
        return delivery_rate(self.total_succeeded, self.total_dispatched)


async def summarize_campaign_steps(
    session: AsyncSession, *, campaign_id: uuid.UUID
) -> list[StepSummary]:
    """One summary per (step number, channel), ordered by step then channel."""
    step = StepExecutionModel
    query = (
        select(
            step.step_number,
            step.channel,
            func.coalesce(func.sum(step.total_dispatched), 0),
            func.coalesce(func.sum(step.total_succeeded), 0),
            func.coalesce(func.sum(step.total_failed), 0),
        )
        .join(ExecutionModel, ExecutionModel.id == step.execution_id)
        .where(ExecutionModel.campaign_id == campaign_id)
        .group_by(step.step_number, step.channel)
        .order_by(step.step_number, step.channel)
    )
    rows = await session.execute(query)
    return [StepSummary(*map(int, row)) for row in rows]
