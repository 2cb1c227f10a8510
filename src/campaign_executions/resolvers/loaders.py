"""DataLoaders: per-request batches that turn many keys into one storage call."""

import uuid
from functools import partial

from strawberry.dataloader import DataLoader

from campaign_executions.schema.context import Loaders
from campaign_executions.schema.types import StepExecution, step_from_model
from campaign_executions.storage import execution as store
from campaign_executions.storage.engine import Database


def create_loaders(database: Database) -> Loaders:
    """Fresh loaders for one request: nothing is cached across requests."""
    return Loaders(steps=DataLoader(load_fn=partial(load_steps, database)))


async def load_steps(
    database: Database, execution_ids: list[uuid.UUID]
) -> list[list[StepExecution]]:
    """The steps of every execution asked for, from one query in its own session."""
    async with database.read() as session:
        by_execution = await store.list_step_executions(
            session, execution_ids=execution_ids
        )
        return [
            [step_from_model(step) for step in by_execution.get(execution_id, [])]
            for execution_id in execution_ids
        ]
