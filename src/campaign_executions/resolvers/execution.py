"""Execution lookups, keyset pages and the cancel command, for the GraphQL root."""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from campaign_executions.domain import ExecutionField
from campaign_executions.errors import ConflictError, InvalidInputError, NotFoundError
from campaign_executions.schema.connection import (
    CampaignExecutionConnection,
    CampaignExecutionEdge,
    PageInfo,
)
from campaign_executions.schema.context import GraphQLContext
from campaign_executions.schema.enums import OrderDirection
from campaign_executions.schema.inputs import (
    CampaignExecutionFilterInput,
    CampaignExecutionOrderInput,
)
from campaign_executions.schema.results import (
    CampaignExecutionCancelled,
    CampaignExecutionNotCancellable,
    CampaignExecutionNotFound,
    CancelCampaignExecutionResult,
)
from campaign_executions.schema.types import CampaignExecution, execution_from_model
from campaign_executions.storage import execution as store
from campaign_executions.storage.engine import Database
from campaign_executions.storage.filters import (
    Condition,
    StatusIn,
    TimeRange,
    search_condition,
)

from .cursor import decode_cursor, encode_cursor

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageArguments:
    """The arguments of the campaignExecutions field."""

    campaign_id: uuid.UUID
    first: int
    after: str | None
    filter_by: CampaignExecutionFilterInput | None
    order_by: CampaignExecutionOrderInput | None


async def find_execution(
    context: GraphQLContext, execution_id: uuid.UUID
) -> CampaignExecution | None:
    """The execution with this id, or None."""
    async with context.services.database.read() as session:
        model = await store.get_execution(session, execution_id=execution_id)
        return None if model is None else execution_from_model(model)


async def list_execution_page(
    context: GraphQLContext, arguments: PageArguments
) -> CampaignExecutionConnection:
    """One keyset page, paged in SQL: `first` + 1 rows tell whether more follow."""
    first = _checked_first(arguments.first, context.services.settings.max_page_size)
    order = order_term(arguments.order_by)
    after = None if arguments.after is None else decode_cursor(arguments.after, order)
    query = store.ExecutionQuery(
        arguments.campaign_id, conditions_of(arguments.filter_by)
    )

    async with context.services.database.read() as session:
        rows = await store.list_executions_after(
            session, query=query, order=order, after=after, limit=first + 1
        )
        edges = [
            CampaignExecutionEdge(
                cursor=encode_cursor(order, store.keyset_of(row, order)),
                node=execution_from_model(row),
            )
            for row in rows[:first]
        ]

    page_info = PageInfo(
        has_next_page=len(rows) > first,
        end_cursor=edges[-1].cursor if edges else None,
    )
    counter = partial(count_executions, context.services.database, query)
    return CampaignExecutionConnection(
        edges=edges, page_info=page_info, counter=counter
    )


async def count_executions(database: Database, query: store.ExecutionQuery) -> int:
    """How many executions match, in a session of its own."""
    async with database.read() as session:
        return await store.count_executions(session, query=query)


def order_term(order_by: CampaignExecutionOrderInput | None) -> store.OrderTerm:
    """The storage order for the orderBy argument; scheduledFor DESC by default."""
    if order_by is None:
        return store.DEFAULT_ORDER[0]
    return store.OrderTerm(
        field=order_by.field.value,
        descending=order_by.direction is OrderDirection.DESC,
    )


def conditions_of(
    filter_input: CampaignExecutionFilterInput | None,
) -> tuple[Condition, ...]:
    """Storage conditions for the filter argument; omitted parts add none."""
    if filter_input is None:
        return ()
    conditions: list[Condition] = []
    if filter_input.statuses is not None:
        conditions.append(StatusIn(frozenset(filter_input.statuses)))
    start, end = filter_input.scheduled_from, filter_input.scheduled_to
    if start is not None or end is not None:
        conditions.append(TimeRange(ExecutionField.SCHEDULED_FOR, start, end))
    if filter_input.search is not None and filter_input.search.strip():
        conditions.append(search_condition(filter_input.search.strip()))
    return tuple(conditions)


def _checked_first(first: int, max_page_size: int) -> int:
    if not 1 <= first <= max_page_size:
        raise InvalidInputError(
            f"'first' must be between 1 and {max_page_size}; it was {first}."
        )
    return first


async def cancel_execution(
    context: GraphQLContext, execution_id: uuid.UUID
) -> CancelCampaignExecutionResult:
    """Cancel a Pending or Running execution; expected refusals become members."""
    database = context.services.database
    try:
        async with database.write() as session:
            model = await store.cancel_execution(
                session, execution_id=execution_id, now=datetime.now(UTC)
            )
            cancelled = execution_from_model(model)
    except NotFoundError:
        return _not_found(execution_id)
    except ConflictError as error:
        current = await find_execution(context, execution_id)
        if current is None:  # deleted between the two sessions
            return _not_found(execution_id)
        return CampaignExecutionNotCancellable(execution=current, message=error.message)

    logger.info("execution_cancelled", extra={"execution_id": str(execution_id)})
    return CampaignExecutionCancelled(execution=cancelled)


def _not_found(execution_id: uuid.UUID) -> CampaignExecutionNotFound:
    return CampaignExecutionNotFound(
        id=execution_id,
        message=f"No campaign execution has the id {execution_id}.",
    )
