import uuid

import httpx
import pytest

from campaign_executions.domain import Channel
from campaign_executions.storage.engine import Database
from tests.factories import execution, step, store
from tests.rest.helpers import BASE


async def test_get_analytics_sums_steps_over_executions_with_seed_rates(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    campaign_id = uuid.uuid4()
    await store(
        database,
        execution(
            campaign_id=campaign_id,
            steps=[
                step(2, channel=Channel.WEBHOOK, totals=(300, 295, 5)),
                step(1, channel=Channel.EMAIL, totals=(500, 490, 10)),
            ],
        ),
        execution(
            campaign_id=campaign_id,
            steps=[
                step(1, channel=Channel.EMAIL, totals=(342, 340, 2)),
                step(2, channel=Channel.WEBHOOK, totals=(310, 303, 7)),
            ],
        ),
        execution(
            campaign_id=uuid.uuid4(),
            steps=[step(1, channel=Channel.EMAIL, totals=(9, 1, 8))],
        ),
    )

    response = await client.get(
        f"{BASE}/GetAnalytics/{campaign_id}", headers=auth_headers
    )

    assert response.status_code == 200
    assert response.json() == {
        "succeeded": True,
        "message": None,
        "data": [
            {
                "stepNumber": 1,
                "channel": 1,
                "totalDispatched": 842,
                "totalSucceeded": 830,
                "totalFailed": 12,
                "deliveryRate": 98.57,
            },
            {
                "stepNumber": 2,
                "channel": 6,
                "totalDispatched": 610,
                "totalSucceeded": 598,
                "totalFailed": 12,
                "deliveryRate": 98.03,
            },
        ],
    }
    # A JSON number, not a string.
    assert '"deliveryRate":98.57' in response.text


@pytest.mark.parametrize(
    "case",
    [(32, 1, 3.12), (3, 2, 66.67), (0, 0, 0)],
    ids=["1-of-32", "2-of-3", "none-dispatched"],
)
async def test_get_analytics_rounds_half_to_even_and_zero_when_none_sent(
    database: Database,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    case: tuple[int, int, float],
) -> None:
    dispatched, succeeded, rate = case
    campaign_id = uuid.uuid4()
    totals = (dispatched, succeeded, dispatched - succeeded)
    await store(
        database,
        execution(campaign_id=campaign_id, steps=[step(1, totals=totals)]),
    )

    response = await client.get(
        f"{BASE}/GetAnalytics/{campaign_id}", headers=auth_headers
    )

    [summary] = response.json()["data"]
    assert summary["deliveryRate"] == rate
    assert isinstance(summary["deliveryRate"], int | float)


async def test_get_analytics_of_unknown_campaign_is_an_empty_list(
    database: Database, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    await store(
        database,
        execution(campaign_id=uuid.uuid4(), steps=[step(1, totals=(5, 5, 0))]),
    )

    response = await client.get(
        f"{BASE}/GetAnalytics/{uuid.uuid4()}", headers=auth_headers
    )

    assert response.status_code == 200
    assert response.json() == {"succeeded": True, "message": None, "data": []}
