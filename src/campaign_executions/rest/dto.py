"""The wire shapes of executions and step summaries, built from storage rows."""

from datetime import datetime
from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from campaign_executions.domain import format_utc
from campaign_executions.storage.analytics import StepSummary
from campaign_executions.storage.models import ExecutionModel

Guid = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
UtcTime = Annotated[
    str,
    Field(
        description="UTC, ISO 8601 with a Z suffix",
        json_schema_extra={"format": "date-time"},
    ),
]
Count = Annotated[int, Field(ge=0)]


class ExecutionDto(TypedDict):
    """NotificationCampaignExecutionDto: one run of a campaign."""

    id: Guid
    campaignId: Guid
    status: Annotated[
        int,
        Field(
            ge=0,
            le=5,
            description=(
                "CampaignExecutionStatus: Pending=0, Running=1, Succeeded=2, "
                "Failed=3, Skipped=4, Cancelled=5"
            ),
        ),
    ]
    scheduledFor: UtcTime
    startedAt: UtcTime | None
    completedAt: UtcTime | None
    totalRecipients: Count
    totalDispatched: Count
    totalSucceeded: Count
    totalFailed: Count
    correlationId: str | None
    errorMessage: str | None


class StepSummaryDto(TypedDict):
    """NotificationCampaignAnalyticsSummaryDto: one step's totals over all runs."""

    stepNumber: Annotated[int, Field(ge=1)]
    channel: Annotated[
        int,
        Field(description="Email=1, Sms=2, Push=3, InApp=4, WhatsApp=5, Webhook=6"),
    ]
    totalDispatched: Count
    totalSucceeded: Count
    totalFailed: Count
    deliveryRate: Annotated[
        float,
        Field(description="succeeded / dispatched x 100, 2 places half-to-even"),
    ]


def execution_dto(execution: ExecutionModel) -> ExecutionDto:
    """The DTO of one execution, keys in the platform's order."""
    return {
        "id": str(execution.id),
        "campaignId": str(execution.campaign_id),
        "status": int(execution.status),
        "scheduledFor": format_utc(execution.scheduled_for),
        "startedAt": _utc_or_none(execution.started_at),
        "completedAt": _utc_or_none(execution.completed_at),
        "totalRecipients": execution.total_recipients,
        "totalDispatched": execution.total_dispatched,
        "totalSucceeded": execution.total_succeeded,
        "totalFailed": execution.total_failed,
        "correlationId": execution.correlation_id,
        "errorMessage": execution.error_message,
    }


def step_summary_dto(summary: StepSummary) -> StepSummaryDto:
    """The DTO of one step summary; the rate is a JSON number."""
    return {
        "stepNumber": summary.step_number,
        "channel": summary.channel,
        "totalDispatched": summary.total_dispatched,
        "totalSucceeded": summary.total_succeeded,
        "totalFailed": summary.total_failed,
        # Rounded exactly as a Decimal first, so 98.57 stays 98.57 on the wire.
        "deliveryRate": float(summary.delivery_rate),
    }


def _utc_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else format_utc(moment)
