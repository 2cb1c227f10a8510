"""The cursor connection over a campaign's executions: edges, page info, count."""

from collections.abc import Awaitable, Callable

import strawberry

from .types import CampaignExecution


@strawberry.type(description="One execution of a page, with the cursor after it.")
class CampaignExecutionEdge:
    """An execution and its opaque position."""

    cursor: str = strawberry.field(
        description="Opaque position of this node; pass it as `after`."
    )
    node: CampaignExecution = strawberry.field(description="The execution.")


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    """What a client needs to ask for the next page."""

    has_next_page: bool = strawberry.field(
        description="Whether executions follow this page."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor; null on an empty page."
    )


async def count_all(root: "CampaignExecutionConnection") -> int:
    """Runs its own count query, and only when the field is selected."""
    return await root.counter()


@strawberry.type(description="A page of a campaign's executions, in keyset order.")
class CampaignExecutionConnection:
    """Edges and page info; the total is counted only when asked for."""

    edges: list[CampaignExecutionEdge] = strawberry.field(
        description="The executions of this page, in order."
    )
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(
        resolver=count_all,
        description="How many executions match, across all pages.",
    )
    counter: strawberry.Private[Callable[[], Awaitable[int]]]
