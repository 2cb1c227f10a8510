"""Create the initial schema: campaigns, executions, steps and dispatches.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campaign_executions.storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", campaign_executions.storage.types.GUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "executions",
        sa.Column("id", campaign_executions.storage.types.GUID(), nullable=False),
        sa.Column(
            "campaign_id", campaign_executions.storage.types.GUID(), nullable=False
        ),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column(
            "scheduled_for",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "started_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "completed_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("total_recipients", sa.Integer(), nullable=False),
        sa.Column("total_dispatched", sa.Integer(), nullable=False),
        sa.Column("total_succeeded", sa.Integer(), nullable=False),
        sa.Column("total_failed", sa.Integer(), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "worker_token", campaign_executions.storage.types.GUID(), nullable=True
        ),
        sa.Column(
            "lease_expires_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
    )
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_executions_campaign_scheduled",
            ["campaign_id", "scheduled_for", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_executions_campaign_status", ["campaign_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_executions_status_scheduled", ["status", "scheduled_for"], unique=False
        )

    op.create_table(
        "campaign_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "campaign_id", campaign_executions.storage.types.GUID(), nullable=False
        ),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_steps_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_steps")),
        sa.UniqueConstraint(
            "campaign_id",
            "step_number",
            name=op.f("uq_campaign_steps_campaign_id_step_number"),
        ),
    )
    op.create_table(
        "recipients",
        sa.Column("id", campaign_executions.storage.types.GUID(), nullable=False),
        sa.Column(
            "campaign_id", campaign_executions.storage.types.GUID(), nullable=False
        ),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipients")),
    )
    with op.batch_alter_table("recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recipients_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "step_executions",
        sa.Column("id", campaign_executions.storage.types.GUID(), nullable=False),
        sa.Column(
            "execution_id", campaign_executions.storage.types.GUID(), nullable=False
        ),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column(
            "started_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "completed_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("total_dispatched", sa.Integer(), nullable=False),
        sa.Column("total_succeeded", sa.Integer(), nullable=False),
        sa.Column("total_failed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_step_executions_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_executions")),
        sa.UniqueConstraint(
            "execution_id",
            "step_number",
            name=op.f("uq_step_executions_execution_id_step_number"),
        ),
    )
    op.create_table(
        "dispatches",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "step_execution_id",
            campaign_executions.storage.types.GUID(),
            nullable=False,
        ),
        sa.Column(
            "recipient_id", campaign_executions.storage.types.GUID(), nullable=False
        ),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "resolved_at",
            campaign_executions.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["step_execution_id"],
            ["step_executions.id"],
            name=op.f("fk_dispatches_step_execution_id_step_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatches")),
        sa.UniqueConstraint(
            "step_execution_id",
            "recipient_id",
            name=op.f("uq_dispatches_step_execution_id_recipient_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("dispatches")
    op.drop_table("step_executions")
    with op.batch_alter_table("recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipients_campaign_id"))

    op.drop_table("recipients")
    op.drop_table("campaign_steps")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index("ix_executions_status_scheduled")
        batch_op.drop_index("ix_executions_campaign_status")
        batch_op.drop_index("ix_executions_campaign_scheduled")

    op.drop_table("executions")
    op.drop_table("campaigns")
