import logging
import uuid
from datetime import UTC, datetime

import pytest

from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from tests.factories import execution, store
from tests.graphql.conftest import Post

CANCEL = """
mutation($id: UUID!) {
  cancelCampaignExecution(id: $id) {
    __typename
    ... on CampaignExecutionCancelled { execution { id status statusCode completedAt } }
    ... on CampaignExecutionNotFound { id message }
    ... on CampaignExecutionNotCancellable {
      message
      execution { id status completedAt }
    }
  }
}
"""


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("status", [ExecutionStatus.PENDING, ExecutionStatus.RUNNING])
async def test_cancel_moves_a_live_execution_to_cancelled(
    database: Database, graphql: Post, status: ExecutionStatus
) -> None:
    row = execution(campaign_id=uuid.uuid4(), status=status)
    await store(database, row)
    before = datetime.now(UTC)

    body = await graphql(CANCEL, {"id": str(row.id)})

    result = body["data"]["cancelCampaignExecution"]
    assert result["__typename"] == "CampaignExecutionCancelled"
    cancelled = result["execution"]
    assert (cancelled["id"], cancelled["status"]) == (str(row.id), "CANCELLED")
    assert cancelled["statusCode"] == 5
    assert cancelled["completedAt"].endswith("Z")
    assert parse_utc(cancelled["completedAt"]) >= before.replace(microsecond=0)


async def test_cancel_again_answers_cancelled_with_the_first_completion(
    database: Database, graphql: Post
) -> None:
    row = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.RUNNING)
    await store(database, row)

    first = await graphql(CANCEL, {"id": str(row.id)})
    again = await graphql(CANCEL, {"id": str(row.id)})

    assert again["data"]["cancelCampaignExecution"]["__typename"] == (
        "CampaignExecutionCancelled"
    )
    assert (
        again["data"]["cancelCampaignExecution"]["execution"]
        == first["data"]["cancelCampaignExecution"]["execution"]
    )


@pytest.mark.parametrize(
    "status",
    [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.SKIPPED],
)
async def test_cancel_of_an_ended_execution_is_not_cancellable(
    database: Database, graphql: Post, status: ExecutionStatus
) -> None:
    row = execution(campaign_id=uuid.uuid4(), status=status)
    await store(database, row)

    body = await graphql(CANCEL, {"id": str(row.id)})

    result = body["data"]["cancelCampaignExecution"]
    assert result["__typename"] == "CampaignExecutionNotCancellable"
    assert result["execution"] == {
        "id": str(row.id),
        "status": status.name,
        "completedAt": None,
    }
    assert status.name.title() in result["message"]
    assert "Pending or Running" in result["message"]


async def test_cancel_of_an_unknown_id_is_not_found(graphql: Post) -> None:
    unknown = uuid.uuid4()

    body = await graphql(CANCEL, {"id": str(unknown)})

    assert body["data"]["cancelCampaignExecution"] == {
        "__typename": "CampaignExecutionNotFound",
        "id": str(unknown),
        "message": f"No campaign execution has the id {unknown}.",
    }


async def test_cancel_is_logged_with_the_execution_id(
    database: Database, graphql: Post, caplog: pytest.LogCaptureFixture
) -> None:
    row = execution(campaign_id=uuid.uuid4(), status=ExecutionStatus.PENDING)
    await store(database, row)

    with caplog.at_level(logging.INFO, logger="campaign_executions"):
        await graphql(CANCEL, {"id": str(row.id)})

    [record] = [r for r in caplog.records if r.getMessage() == "execution_cancelled"]
    assert record.__dict__["execution_id"] == str(row.id)
