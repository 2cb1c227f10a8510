"""Step executions: starting and ending them, and choosing each step's audience."""

import uuid
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_executions.domain import (
    FINAL_STATUSES,
    Audience,
    DispatchOutcome,
    ExecutionStatus,
)
from campaign_executions.errors import NotFoundError

from .claim import hold_execution
from .models import DispatchModel, RecipientModel, StepExecutionModel

_PREVIOUS_OUTCOME = {
    Audience.SUCCEEDED_PREVIOUS: DispatchOutcome.SUCCEEDED,
    Audience.FAILED_PREVIOUS: DispatchOutcome.FAILED,
}


async def start_step(  # noqa: PLR0913 - the fence's pair plus the step's own fields
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    step_number: int,
    channel: int,
    now: datetime,
) -> StepExecutionModel:
    """The step execution of `step_number`, created Running if it does not exist.

    After a crash the existing one is returned as it stands, finished or not.
    Raises ExecutionStoppedError once the execution was cancelled or ended,
    LeaseLostError once another worker holds it.
    """
    await hold_execution(session, execution_id=execution_id, token=token, now=now)
    query = select(StepExecutionModel).where(
        StepExecutionModel.execution_id == execution_id,
        StepExecutionModel.step_number == step_number,
    )
    existing = (await session.scalars(query)).one_or_none()
    if existing is not None:
        return existing

    step = StepExecutionModel(
        execution_id=execution_id,
        step_number=step_number,
        channel=int(channel),
        status=int(ExecutionStatus.RUNNING),
        started_at=now,
    )
    session.add(step)
    await session.flush()
    return step


async def audience(  # noqa: PLR0913 - the rule, its previous step, and the page
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    rule: Audience,
    previous_step_execution_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[uuid.UUID, str]]:
    """One keyset page of a step's recipients as (id, address), in id order.

    All of the campaign's recipients, or those whose dispatch on the previous
    step execution succeeded (or failed). With no previous step execution
    those two rules select nobody.
    """
    query = select(RecipientModel.id, RecipientModel.address).where(
        RecipientModel.campaign_id == campaign_id
    )
    if rule is not Audience.ALL:
        if previous_step_execution_id is None:
            return []
        query = query.join(
            DispatchModel,
            and_(
                DispatchModel.recipient_id == RecipientModel.id,
                DispatchModel.step_execution_id == previous_step_execution_id,
                DispatchModel.outcome == str(_PREVIOUS_OUTCOME[rule]),
            ),
        )
    if after is not None:
        query = query.where(RecipientModel.id > after)
    rows = await session.execute(query.order_by(RecipientModel.id).limit(limit))
    return [(row.id, row.address) for row in rows]


async def finish_step(  # noqa: PLR0913 - the fence's pair plus the step's end
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    step_execution_id: uuid.UUID,
    status: ExecutionStatus,
    now: datetime,
) -> None:
    """End a step execution with a final status; one already ended keeps its end.

    Checked on the token only, so a cancelled run can still close its step.
    """
    if status not in FINAL_STATUSES:
        raise ValueError(f"a step cannot end as {status.name}")
    await hold_execution(
        session, execution_id=execution_id, token=token, now=now, running=False
    )
    owned = and_(
        StepExecutionModel.id == step_execution_id,
        StepExecutionModel.execution_id == execution_id,
    )
    open_ = StepExecutionModel.status.not_in([int(s) for s in FINAL_STATUSES])
    statement = (
        update(StepExecutionModel)
        .where(owned, open_)
        .values(status=int(status), completed_at=now)
        .returning(StepExecutionModel.id)
        .execution_options(synchronize_session=False)
    )
    if (await session.execute(statement)).first() is not None:
        return
    if await session.scalar(select(StepExecutionModel.id).where(owned)) is None:
        raise step_not_found(execution_id, step_execution_id)


def step_not_found(execution_id: uuid.UUID, step_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(
        f"Execution {execution_id} has no step execution {step_id}; "
        "start the step before recording or settling its dispatches."
    )
