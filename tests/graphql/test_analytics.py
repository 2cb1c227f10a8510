import uuid

import pytest

from campaign_executions.domain import Channel
from campaign_executions.storage.engine import Database
from tests.factories import execution, step, store
from tests.graphql.conftest import Post

ANALYTICS = """
query($campaignId: UUID!) {
  campaignAnalytics(campaignId: $campaignId) {
    stepNumber channel channelCode
    totalDispatched totalSucceeded totalFailed deliveryRate
  }
}
"""

DETAILS = """
query($id: UUID!) {
  campaignExecution(id: $id) {
    deliveryRate
    steps { stepNumber deliveryRate }
  }
}
"""


async def test_analytics_gives_the_seed_rates_as_numbers(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    email = step(1, channel=Channel.EMAIL, totals=(842, 830, 12))
    webhook = step(2, channel=Channel.WEBHOOK, totals=(610, 598, 12))
    await store(database, execution(campaign_id=campaign_id, steps=[email, webhook]))

    body = await graphql(ANALYTICS, {"campaignId": str(campaign_id)})

    assert body["data"]["campaignAnalytics"] == [
        {
            "stepNumber": 1,
            "channel": "EMAIL",
            "channelCode": 1,
            "totalDispatched": 842,
            "totalSucceeded": 830,
            "totalFailed": 12,
            "deliveryRate": 98.57,
        },
        {
            "stepNumber": 2,
            "channel": "WEBHOOK",
            "channelCode": 6,
            "totalDispatched": 610,
            "totalSucceeded": 598,
            "totalFailed": 12,
            "deliveryRate": 98.03,
        },
    ]


async def test_analytics_sums_every_execution_of_the_campaign(
    database: Database, graphql: Post
) -> None:
    campaign_id = uuid.uuid4()
    runs = [
        execution(campaign_id=campaign_id, steps=[step(1, totals=(421, 415, 6))]),
        execution(campaign_id=campaign_id, steps=[step(1, totals=(421, 415, 6))]),
        execution(campaign_id=uuid.uuid4(), steps=[step(1, totals=(5, 0, 5))]),
    ]
    await store(database, *runs)

    body = await graphql(ANALYTICS, {"campaignId": str(campaign_id)})

    [summary] = body["data"]["campaignAnalytics"]
    assert (summary["totalDispatched"], summary["totalSucceeded"]) == (842, 830)
    assert summary["deliveryRate"] == 98.57


async def test_analytics_of_an_unknown_campaign_is_empty(graphql: Post) -> None:
    body = await graphql(ANALYTICS, {"campaignId": str(uuid.uuid4())})

    assert body == {"data": {"campaignAnalytics": []}}


@pytest.mark.parametrize(
    ("dispatched", "succeeded", "rate"),
    [(32, 1, 3.12), (3, 2, 66.67), (0, 0, 0), (842, 830, 98.57)],
)
async def test_delivery_rate_rounds_half_to_even_everywhere(
    database: Database, graphql: Post, dispatched: int, succeeded: int, rate: float
) -> None:
    campaign_id = uuid.uuid4()
    totals = (dispatched, succeeded, dispatched - succeeded)
    run = execution(campaign_id=campaign_id, steps=[step(1, totals=totals)])
    await store(database, run)

    summary = await graphql(ANALYTICS, {"campaignId": str(campaign_id)})
    details = await graphql(DETAILS, {"id": str(run.id)})

    [row] = summary["data"]["campaignAnalytics"]
    found = details["data"]["campaignExecution"]
    assert row["deliveryRate"] == rate
    assert found["deliveryRate"] == rate
    assert found["steps"] == [{"stepNumber": 1, "deliveryRate": rate}]
    assert isinstance(row["deliveryRate"], int | float)
