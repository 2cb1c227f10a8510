"""The contract between the worker loop and the channel senders."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaign_executions.domain import Channel


@dataclass(frozen=True)
class Message:
    """One message for one recipient of one step of one execution."""

    idempotency_key: str  # "<execution id>:<step number>:<recipient id>"
    execution_id: uuid.UUID
    step_number: int
    channel: Channel
    recipient_id: uuid.UUID
    address: str


@dataclass(frozen=True)
class SendResult:
    """What became of one message."""

    succeeded: bool
    error: str | None = None  # a short reason a person can read, when not succeeded


class Sender(Protocol):
    """Delivers messages through one kind of channel."""

    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send every message; one result per message, in the same order.

        A failure of one message is a result, never an exception.
        """
        ...

    async def aclose(self) -> None:
        """Release whatever the sender holds (connections, clients)."""
        ...
