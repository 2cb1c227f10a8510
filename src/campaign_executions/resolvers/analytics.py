"""The per-step delivery summary of a campaign."""

import uuid

from campaign_executions.schema.context import GraphQLContext
from campaign_executions.schema.types import CampaignStepSummary, summary_from_record
from campaign_executions.storage import analytics


async def summarize_campaign(
    context: GraphQLContext, campaign_id: uuid.UUID
) -> list[CampaignStepSummary]:
    """One summary per (step number, channel); empty for an unknown campaign."""
    async with context.services.database.read() as session:
        records = await analytics.summarize_campaign_steps(
            session, campaign_id=campaign_id
        )
    return [summary_from_record(record) for record in records]
