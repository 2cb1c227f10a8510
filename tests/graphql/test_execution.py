import uuid
from datetime import timedelta

from campaign_executions.domain import Channel, ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.models import ExecutionModel
from tests.factories import (
    BASE_TIME,
    SEED_CAMPAIGN_ID,
    SEED_DETAILS,
    SEED_EXECUTION_ID,
    execution,
    step,
    store,
)
from tests.graphql.conftest import Post
from tests.graphql.helpers import EXECUTION_FIELDS

DETAILS = f"""
query($id: UUID!) {{
  campaignExecution(id: $id) {{
    {EXECUTION_FIELDS}
    steps {{
      stepNumber channel channelCode status statusCode startedAt completedAt
      totalDispatched totalSucceeded totalFailed deliveryRate
    }}
  }}
}}
"""


def seed_execution() -> ExecutionModel:
    email = step(
        1,
        channel=Channel.EMAIL,
        totals=(610, 598, 12),
        status=ExecutionStatus.RUNNING,
    )
    email.started_at = BASE_TIME + timedelta(seconds=3)
    return execution(
        id=SEED_EXECUTION_ID,
        campaign_id=SEED_CAMPAIGN_ID,
        status=ExecutionStatus.RUNNING,
        started_at=BASE_TIME + timedelta(seconds=3),
        total_recipients=842,
        correlation_id="campaign-exec-7f8e9d",
        steps=[email],
    )


async def test_execution_has_the_seed_details_with_status_name_and_code(
    database: Database, graphql: Post
) -> None:
    await store(database, seed_execution())

    body = await graphql(DETAILS, {"id": str(SEED_EXECUTION_ID)})

    found = body["data"]["campaignExecution"]
    expected = SEED_DETAILS | {"status": "RUNNING", "statusCode": 1}
    assert {key: found[key] for key in expected} == expected
    assert found["deliveryRate"] == 98.03
    assert found["steps"] == [
        {
            "stepNumber": 1,
            "channel": "EMAIL",
            "channelCode": 1,
            "status": "RUNNING",
            "statusCode": 1,
            "startedAt": "2026-07-10T06:00:03Z",
            "completedAt": None,
            "totalDispatched": 610,
            "totalSucceeded": 598,
            "totalFailed": 12,
            "deliveryRate": 98.03,
        }
    ]


async def test_unknown_execution_is_null_without_error(graphql: Post) -> None:
    body = await graphql(DETAILS, {"id": str(uuid.uuid4())})

    assert body == {"data": {"campaignExecution": None}}


async def test_steps_come_in_step_order_with_channel_names(
    database: Database, graphql: Post
) -> None:
    steps = [step(2, channel=Channel.WHATSAPP), step(1, channel=Channel.IN_APP)]
    run = execution(campaign_id=uuid.uuid4(), steps=steps)
    await store(database, run)

    body = await graphql(DETAILS, {"id": str(run.id)})

    found = body["data"]["campaignExecution"]["steps"]
    assert [(s["stepNumber"], s["channel"], s["channelCode"]) for s in found] == [
        (1, "IN_APP", 4),
        (2, "WHATSAPP", 5),
    ]


async def test_malformed_id_is_a_clean_validation_error(graphql: Post) -> None:
    body = await graphql(DETAILS, {"id": "not-a-uuid"})

    assert body["data"] is None
    assert "UUID" in body["errors"][0]["message"]
    assert "Traceback" not in str(body)
