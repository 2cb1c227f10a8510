import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from campaign_executions.auth.permission import Permission
from campaign_executions.domain import ExecutionStatus
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import get_execution
from tests.factories import execution, step, store
from tests.graphql.conftest import Post
from tests.graphql.helpers import bearer, codes, messages

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


READ_THROUGH_CANCEL = """
mutation($id: UUID!) {
  cancelCampaignExecution(id: $id) {
    __typename
    ... on CampaignExecutionCancelled {
      execution { campaignId totalDispatched correlationId steps { totalDispatched } }
    }
    ... on CampaignExecutionNotCancellable {
      message
      execution { campaignId totalDispatched correlationId steps { totalDispatched } }
    }
  }
}
"""


@pytest.mark.parametrize(
    ("status", "member"),
    [
        (ExecutionStatus.RUNNING, "CampaignExecutionCancelled"),
        (ExecutionStatus.SUCCEEDED, "CampaignExecutionNotCancellable"),
    ],
)
async def test_cancel_permission_alone_learns_the_outcome_but_no_data(
    database: Database,
    graphql: Post,
    make_token: Callable[..., str],
    status: ExecutionStatus,
    member: str,
) -> None:
    row = execution(
        campaign_id=uuid.uuid4(),
        status=status,
        steps=[step(1, totals=(7, 6, 1))],
        correlation_id="private-run-label",
    )
    await store(database, row)
    cancel_only = bearer(make_token(Permission.CANCEL))

    body = await graphql(READ_THROUGH_CANCEL, {"id": str(row.id)}, headers=cancel_only)

    result = body["data"]["cancelCampaignExecution"]
    assert result["__typename"] == member
    assert result["execution"] is None
    assert codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["cancelCampaignExecution", "execution"]
    assert "NotificationCampaigns.Analytics" in messages(body)
    assert str(row.campaign_id) not in str(body)
    assert "private-run-label" not in str(body)
    cancelled = member == "CampaignExecutionCancelled"
    if not cancelled:
        assert "Pending or Running" in result["message"]
    async with database.read() as session:
        stored = await get_execution(session, execution_id=row.id)
    assert stored is not None
    assert stored.status == (ExecutionStatus.CANCELLED if cancelled else status)


async def test_cancel_with_both_permissions_reads_the_execution(
    database: Database, graphql: Post, make_token: Callable[..., str]
) -> None:
    row = execution(
        campaign_id=uuid.uuid4(),
        status=ExecutionStatus.SUCCEEDED,
        steps=[step(1, totals=(7, 6, 1))],
    )
    await store(database, row)
    both = bearer(make_token(Permission.CANCEL, Permission.ANALYTICS))

    body = await graphql(READ_THROUGH_CANCEL, {"id": str(row.id)}, headers=both)

    assert "errors" not in body
    assert body["data"]["cancelCampaignExecution"]["execution"] == {
        "campaignId": str(row.campaign_id),
        "totalDispatched": 7,
        "correlationId": None,
        "steps": [{"totalDispatched": 7}],
    }
