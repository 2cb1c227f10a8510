"""Bulk storage of new records, as an import or the demo loads them."""

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Base, CampaignModel, ExecutionModel, RecipientModel

_CHUNK = 500


async def find_existing_ids(
    session: AsyncSession,
    *,
    model: type[CampaignModel] | type[ExecutionModel] | type[RecipientModel],
    ids: Sequence[uuid.UUID],
) -> set[uuid.UUID]:
    """Which of `ids` already name a stored row of `model`."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(await session.scalars(select(model.id).where(model.id.in_(chunk))))
    return found


async def add_records(session: AsyncSession, *, records: Iterable[Base]) -> None:
    """Stage new rows and flush them; the caller's transaction commits."""
    session.add_all(records)
    await session.flush()


async def list_campaign_names(
    session: AsyncSession, *, limit: int = 20
) -> list[tuple[uuid.UUID, str]]:
    """The ids and names of up to `limit` campaigns, by name."""
    query = select(CampaignModel.id, CampaignModel.name).order_by(CampaignModel.name)
    rows = await session.execute(query.limit(limit))
    return [(row.id, row.name) for row in rows]


async def count_campaigns(session: AsyncSession) -> int:
    """How many campaigns are stored; zero means an empty database."""
    return (await session.execute(select(func.count(CampaignModel.id)))).scalar_one()
