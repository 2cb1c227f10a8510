"""Claims on due executions, their leases, and the fenced writes a holder makes.

A claim is a `worker_token` and a lease on one execution. Every write a worker
makes for an execution names its token; once another worker has taken the
execution over, those writes change nothing and raise LeaseLostError.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from campaign_executions.domain import ExecutionStatus
from campaign_executions.errors import (
    ExecutionStoppedError,
    LeaseLostError,
    NotFoundError,
)

from .models import CampaignModel, ExecutionModel, RecipientModel
from .types import UTCDateTime

# The end states a worker gives a run; Cancelled belongs to cancel_execution.
WORKER_END_STATUSES = frozenset(
    {ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.SKIPPED}
)


async def claim_due_execution(
    session: AsyncSession, *, token: uuid.UUID, now: datetime, lease: timedelta
) -> ExecutionModel | None:
    """Claim the earliest due execution for `token` in one UPDATE; None if none.

    Due means Pending with scheduledFor <= now, or Running with a lease that
    expired before now. A Running execution with no lease at all is imported
    history, not an abandoned run, and is never claimed. On PostgreSQL the
    candidate row is locked with SKIP LOCKED so concurrent claimers pass over
    each other; on SQLite the caller's BEGIN IMMEDIATE transaction serialises
    claimers.
    """
    candidate = (
        select(ExecutionModel.id)
        .where(_due(now))
        .order_by(ExecutionModel.scheduled_for, ExecutionModel.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    statement = (
        update(ExecutionModel)
        # Repeated in the outer UPDATE: under READ COMMITTED the candidate may
        # have been claimed between the subquery's snapshot and this write.
        .where(ExecutionModel.id == candidate.scalar_subquery(), _due(now))
        .values(
            worker_token=token,
            lease_expires_at=now + lease,
            status=int(ExecutionStatus.RUNNING),
            started_at=func.coalesce(
                ExecutionModel.started_at, literal(now, UTCDateTime())
            ),
            updated_at=now,
        )
        .returning(ExecutionModel)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def renew_lease(
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    now: datetime,
    lease: timedelta,
) -> None:
    """Extend the lease of a Running execution that `token` holds.

    Raises LeaseLostError when another worker holds it, ExecutionStoppedError
    when it was cancelled or has ended.
    """
    await _update_held(
        session,
        execution_id=execution_id,
        token=token,
        values={"lease_expires_at": now + lease, "updated_at": now},
    )


async def finish_execution(  # noqa: PLR0913 - the worker's end-of-run record
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    status: ExecutionStatus,
    now: datetime,
    error_message: str | None = None,
) -> None:
    """End a Running execution that `token` holds and release the claim.

    `status` is Succeeded, Failed or Skipped. A Cancelled execution is never
    overwritten (ExecutionStoppedError); a lost claim raises LeaseLostError.
    """
    if status not in WORKER_END_STATUSES:
        raise ValueError(f"a worker cannot end an execution as {status.name}")
    await _update_held(
        session,
        execution_id=execution_id,
        token=token,
        values={
            "status": int(status),
            "completed_at": now,
            "error_message": error_message,
            "worker_token": None,
            "lease_expires_at": None,
            "updated_at": now,
        },
    )


async def set_total_recipients(
    session: AsyncSession, *, execution_id: uuid.UUID, token: uuid.UUID, total: int
) -> None:
    """Record how many recipients the run targets, if `token` still holds it."""
    if total < 0:
        raise ValueError("a recipient count cannot be negative")
    await _update_held(
        session,
        execution_id=execution_id,
        token=token,
        values={"total_recipients": total},
    )


async def release_execution(
    session: AsyncSession, *, execution_id: uuid.UUID, token: uuid.UUID, now: datetime
) -> None:
    """End this holder's lease now, so another worker may resume the run at once.

    The execution stays Running with its ledger; only the lease expires.
    """
    await _update_held(
        session,
        execution_id=execution_id,
        token=token,
        values={"lease_expires_at": now - timedelta(microseconds=1), "updated_at": now},
        running=True,
    )


async def hold_execution(
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    now: datetime,
    running: bool = True,
) -> None:
    """Check that `token` holds the execution, taking its row lock until commit.

    With `running`, the execution must also still be Running: that is the
    check before a new dispatch. Without it only the token counts, so a holder
    can still settle dispatches that were in flight when a cancel answered.
    """
    await _update_held(
        session,
        execution_id=execution_id,
        token=token,
        values={"updated_at": now},
        running=running,
    )


async def schedule_execution(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    scheduled_for: datetime,
    correlation_id: str | None = None,
) -> ExecutionModel:
    """Add a Pending execution of the campaign, due at `scheduled_for`."""
    execution = ExecutionModel(
        campaign_id=campaign_id,
        status=int(ExecutionStatus.PENDING),
        scheduled_for=scheduled_for,
        correlation_id=correlation_id,
    )
    session.add(execution)
    await session.flush()
    return execution


async def load_campaign(
    session: AsyncSession, *, campaign_id: uuid.UUID
) -> CampaignModel | None:
    """The campaign with its steps loaded (in step order), or None."""
    query = (
        select(CampaignModel)
        .where(CampaignModel.id == campaign_id)
        .options(selectinload(CampaignModel.steps))
    )
    return (await session.scalars(query)).one_or_none()


async def count_recipients(session: AsyncSession, *, campaign_id: uuid.UUID) -> int:
    """How many recipients the campaign has."""
    query = select(func.count()).where(RecipientModel.campaign_id == campaign_id)
    return (await session.execute(query)).scalar_one()


def _due(now: datetime) -> ColumnElement[bool]:
    pending = and_(
        ExecutionModel.status == int(ExecutionStatus.PENDING),
        ExecutionModel.scheduled_for <= now,
    )
    abandoned = and_(
        ExecutionModel.status == int(ExecutionStatus.RUNNING),
        ExecutionModel.lease_expires_at.is_not(None),
        ExecutionModel.lease_expires_at < now,
    )
    return or_(pending, abandoned)


async def _update_held(
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    token: uuid.UUID,
    values: Mapping[str, object],
    running: bool = True,
) -> None:
    """UPDATE the execution only where `token` holds it; explain a miss."""
    held = [ExecutionModel.id == execution_id, ExecutionModel.worker_token == token]
    if running:
        held.append(ExecutionModel.status == int(ExecutionStatus.RUNNING))
    statement = (
        update(ExecutionModel)
        .where(*held)
        .values(values)
        .returning(ExecutionModel.id)
        .execution_options(synchronize_session=False)
    )
    if (await session.execute(statement)).first() is None:
        await _raise_not_held(session, execution_id=execution_id, token=token)


async def _raise_not_held(
    session: AsyncSession, *, execution_id: uuid.UUID, token: uuid.UUID
) -> NoReturn:
    query = select(ExecutionModel.status, ExecutionModel.worker_token).where(
        ExecutionModel.id == execution_id
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFoundError(f"No campaign execution has the id {execution_id}.")
    if row.worker_token != token:
        raise LeaseLostError(
            f"This worker no longer holds the execution {execution_id}: its "
            "lease was taken over. Stop working on it; the new holder resumes it."
        )
    status = ExecutionStatus(row.status).name.title()
    raise ExecutionStoppedError(
        f"Execution {execution_id} is {status}: the execution was cancelled or "
        "ended, so no new work may start for it."
    )
