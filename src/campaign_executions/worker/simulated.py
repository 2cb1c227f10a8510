"""A channel sender that pretends to deliver, for demos and tests."""

import asyncio
import hashlib
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType

from campaign_executions.domain import Channel

from .sender import Message, SendResult

# Reasons a real provider gives for not delivering, per channel.
FAILURE_REASONS: Mapping[Channel, tuple[str, ...]] = MappingProxyType(
    {
        Channel.EMAIL: (
            "mailbox full",
            "address rejected by the receiving server",
            "message bounced as spam",
        ),
        Channel.SMS: (
            "number unreachable",
            "carrier rejected the message",
            "recipient opted out of SMS",
        ),
        Channel.PUSH: (
            "device token expired",
            "app uninstalled from the device",
            "push service unavailable",
        ),
        Channel.IN_APP: (
            "user account disabled",
            "inbox full",
        ),
        Channel.WHATSAPP: (
            "number not on WhatsApp",
            "message template not approved",
            "recipient blocked the sender",
        ),
        Channel.WEBHOOK: (
            "endpoint answered HTTP 500",
            "endpoint timed out",
            "connection refused",
        ),
    }
)


class SimulatedSender:
    """Decides each message's outcome from a hash of the seed and its idempotency key.

    The same seed and key always give the same outcome, whatever the batch or its
    order, so a resent message fails or succeeds exactly as it did the first time.
    Without a seed, one is drawn at random when the sender is built.
    """

    def __init__(
        self,
        success_rate: float,
        latency_ms: int,
        seed: int | None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not 0.0 <= success_rate <= 1.0:
            raise ValueError(
                f"success_rate must be between 0 and 1, not {success_rate}"
            )
        if latency_ms < 0:
            raise ValueError(f"latency_ms must be 0 or more, not {latency_ms}")
        self.success_rate = success_rate
        self.latency_ms = latency_ms
        self.seed = secrets.randbits(63) if seed is None else seed
        self._sleep = sleep
        self._send_counts: Counter[str] = Counter()

    @property
    def send_counts(self) -> Mapping[str, int]:
        """How many times each idempotency key was handed to this sender."""
        return MappingProxyType(self._send_counts)

    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        """Wait the configured latency once, then answer every message."""
        if not messages:
            return []
        self._send_counts.update(message.idempotency_key for message in messages)
        if self.latency_ms > 0:
            await self._sleep(self.latency_ms / 1000)
        return [self.outcome(message) for message in messages]

    def outcome(self, message: Message) -> SendResult:
        """The result this sender gives `message`, every time it is sent."""
        key = f"{self.seed}:{message.idempotency_key}"
        digest = hashlib.sha256(key.encode()).digest()
        if _fraction(digest) < self.success_rate:
            return SendResult(succeeded=True)
        reasons = FAILURE_REASONS[message.channel]
        return SendResult(succeeded=False, error=reasons[digest[8] % len(reasons)])

    async def aclose(self) -> None:
        """Nothing to release."""


def _fraction(digest: bytes) -> float:
    """The digest's first 53 bits as a number in [0, 1), exact as a float."""
    return (int.from_bytes(digest[:8], "big") >> 11) / 2**53
