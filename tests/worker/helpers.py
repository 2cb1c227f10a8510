"""What the sender tests share: message builders and a sleep that only records."""

import uuid

from campaign_executions.domain import Channel
from campaign_executions.worker.sender import Message

EXECUTION_ID = uuid.UUID("5b6c7d80-0000-0000-0000-000000000001")


def message(
    number: int = 0,
    *,
    channel: Channel = Channel.EMAIL,
    execution_id: uuid.UUID = EXECUTION_ID,
    step_number: int = 1,
) -> Message:
    """The message of recipient `number`, with a key built as the worker builds it."""
    recipient_id = uuid.UUID(int=number + 1)
    return Message(
        idempotency_key=f"{execution_id}:{step_number}:{recipient_id}",
        execution_id=execution_id,
        step_number=step_number,
        channel=channel,
        recipient_id=recipient_id,
        address=f"recipient-{number}@example.test",
    )


def messages(count: int, *, channel: Channel = Channel.EMAIL) -> list[Message]:
    """`count` messages to distinct recipients of the same step."""
    return [message(number, channel=channel) for number in range(count)]


class RecordedSleep:
    """Stands in for asyncio.sleep: remembers each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
