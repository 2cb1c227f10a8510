"""The four execution routes under /api/v1/NotificationCampaignExecution."""

import logging
import uuid
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from campaign_executions.auth.permission import Permission, require_permission
from campaign_executions.domain import parse_guid
from campaign_executions.errors import InvalidInputError, NotFoundError
from campaign_executions.services import Services, services_of
from campaign_executions.storage.analytics import summarize_campaign_steps
from campaign_executions.storage.execution import cancel_execution, get_execution

from .datatable import fetch_grid_page, plan_grid, respond_grid_failure
from .dto import execution_dto, step_summary_dto
from .envelope import envelope
from .grid_request import read_dt_parameters
from .routing import ShimRoute

logger = logging.getLogger(__name__)

BASE_PATH = "/api/v1/NotificationCampaignExecution"
GUID_EXAMPLE = "4a5b6c70-0000-0000-0000-000000000001"


def authorize(request: Request, permission: Permission) -> Services:
    """The app's services, once the caller is known to hold `permission`."""
    services = services_of(request)
    require_permission(services.authenticate(request), permission)
    return services


def guid_param(request: Request, name: str) -> uuid.UUID:
    """The path parameter `name` as a GUID; a 400 when it is not one."""
    try:
        return parse_guid(request.path_params[name])
    except ValueError:
        raise InvalidInputError(
            f"The {name} in the path is not a valid GUID; send one like {GUID_EXAMPLE}."
        ) from None


async def get_data_table(request: Request) -> Response:
    """One page of a campaign's executions for the grid, as a bare DtResult."""
    services = authorize(request, Permission.ANALYTICS)
    campaign_id = guid_param(request, "campaignId")
    params = await read_dt_parameters(request)
    max_page_size = services.settings.max_page_size

    plan = plan_grid(params, max_page_size=max_page_size)
    page = await fetch_grid_page(
        services.database,
        campaign_id=campaign_id,
        plan=plan,
        max_page_size=max_page_size,
    )
    return JSONResponse(page)


async def get_details(request: Request) -> Response:
    """One execution, or a 404 envelope."""
    services = authorize(request, Permission.ANALYTICS)
    execution_id = guid_param(request, "id")

    async with services.database.read() as session:
        execution = await get_execution(session, execution_id=execution_id)
    if execution is None:
        raise NotFoundError(f"No campaign execution has the id {execution_id}.")
    return envelope(execution_dto(execution))


async def get_analytics(request: Request) -> Response:
    """Per-step delivery totals of a campaign; empty for an unknown one."""
    services = authorize(request, Permission.ANALYTICS)
    campaign_id = guid_param(request, "campaignId")

    async with services.database.read() as session:
        summaries = await summarize_campaign_steps(session, campaign_id=campaign_id)
    return envelope([step_summary_dto(summary) for summary in summaries])


async def cancel(request: Request) -> Response:
    """Cancel a Pending or Running execution; a Cancelled one answers success."""
    services = authorize(request, Permission.CANCEL)
    execution_id = guid_param(request, "id")

    async with services.database.write() as session:
        await cancel_execution(
            session, execution_id=execution_id, now=datetime.now(UTC)
        )
    logger.info("execution_cancelled", extra={"execution_id": str(execution_id)})
    return envelope(str(execution_id))


def execution_routes() -> list[BaseRoute]:
    """The four routes, relative to BASE_PATH."""
    return [
        ShimRoute(
            "/GetDataTable/{campaignId}",
            get_data_table,
            method="POST",
            failure=respond_grid_failure,
        ),
        ShimRoute("/GetDetails/{id}", get_details, method="GET"),
        ShimRoute("/GetAnalytics/{campaignId}", get_analytics, method="GET"),
        ShimRoute("/Cancel/{id}", cancel, method="PUT"),
    ]
