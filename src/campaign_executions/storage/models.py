"""ORM models: campaigns, their steps and recipients, executions and dispatches."""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import GUID, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        uuid.UUID: GUID,
        datetime: UTCDateTime,
    }


class TimestampedMixin:
    """Created and updated times; stored, never sent to clients."""

    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class CampaignModel(TimestampedMixin, Base):
    """A campaign: an ordered list of steps sent to a set of recipients."""

    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    steps: Mapped[list["CampaignStepModel"]] = relationship(
        lazy="raise", order_by="CampaignStepModel.step_number"
    )


class CampaignStepModel(Base):
    """One step of a campaign: a channel and the audience it sends to."""

    __tablename__ = "campaign_steps"
    __table_args__ = (UniqueConstraint("campaign_id", "step_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    step_number: Mapped[int]
    channel: Mapped[int]
    audience: Mapped[str] = mapped_column(String(32), default="all")


class RecipientModel(Base):
    """Someone a campaign sends to, with the address its channels use."""

    __tablename__ = "recipients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320))


class ExecutionModel(TimestampedMixin, Base):
    """One scheduled run of a campaign, with live totals.

    The campaign is not a foreign key: imported history may name campaigns
    that this service never stored.
    """

    __tablename__ = "executions"
    __table_args__ = (
        # The grid's default order and the connection's keyset walk.
        Index("ix_executions_campaign_scheduled", "campaign_id", "scheduled_for", "id"),
        Index("ix_executions_campaign_status", "campaign_id", "status"),
        # The worker's search for due executions.
        Index("ix_executions_status_scheduled", "status", "scheduled_for"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID]
    status: Mapped[int] = mapped_column(Integer, default=0)
    scheduled_for: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    total_recipients: Mapped[int] = mapped_column(default=0)
    total_dispatched: Mapped[int] = mapped_column(default=0)
    total_succeeded: Mapped[int] = mapped_column(default=0)
    total_failed: Mapped[int] = mapped_column(default=0)
    correlation_id: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)
    worker_token: Mapped[uuid.UUID | None]
    lease_expires_at: Mapped[datetime | None]

    steps: Mapped[list["StepExecutionModel"]] = relationship(
        lazy="raise", order_by="StepExecutionModel.step_number"
    )


class StepExecutionModel(Base):
    """One step of one execution, with its own totals."""

    __tablename__ = "step_executions"
    __table_args__ = (UniqueConstraint("execution_id", "step_number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    execution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE")
    )
    step_number: Mapped[int]
    channel: Mapped[int]
    status: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    total_dispatched: Mapped[int] = mapped_column(default=0)
    total_succeeded: Mapped[int] = mapped_column(default=0)
    total_failed: Mapped[int] = mapped_column(default=0)


class DispatchModel(Base):
    """One recipient's message for one step execution; at most one per pair."""

    __tablename__ = "dispatches"
    __table_args__ = (UniqueConstraint("step_execution_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    step_execution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("step_executions.id", ondelete="CASCADE")
    )
    recipient_id: Mapped[uuid.UUID]
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    resolved_at: Mapped[datetime | None]
