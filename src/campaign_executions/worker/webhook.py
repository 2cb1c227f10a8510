"""A channel sender that POSTs each message as JSON to an HTTP endpoint."""

import asyncio
import logging
import random
from collections.abc import Sequence

import httpx

from .sender import Message, SendResult

logger = logging.getLogger(__name__)

# Requests in flight at once, per sender; a batch waits its turn beyond that.
MAX_IN_FLIGHT = 16
# No single wait between two attempts is longer than this.
MAX_BACKOFF_SECONDS = 30.0

_RETRYABLE_STATUSES = frozenset({429}) | frozenset(range(500, 600))


class WebhookSender:
    """POSTs one JSON body per message, retrying what may succeed later.

    2xx is a success. 429, 5xx, timeouts and connection errors are retried with
    exponential backoff and jitter, up to `max_retries` times after the first
    attempt; any other status fails at once. A message never raises.
    """

    def __init__(
        self,
        url: str,
        timeout: float,
        max_retries: int,
        backoff_base: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        if max_retries < 0 or backoff_base < 0:
            raise ValueError("max_retries and backoff_base must be 0 or more")
        self.url = checked_url(url)
        self.timeout = httpx.Timeout(timeout)
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        # A client passed in belongs to the caller, who closes it.
        self._owns_client = client is None
        self._client = client if client is not None else self._new_client()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)

    @staticmethod
    def _new_client() -> httpx.AsyncClient:
        return httpx.AsyncClient(limits=httpx.Limits(max_connections=MAX_IN_FLIGHT))

    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send every message concurrently, at most MAX_IN_FLIGHT at a time."""
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._deliver(message)) for message in messages]
        return [task.result() for task in tasks]

    async def aclose(self) -> None:
        """Close the HTTP client if this sender created it."""
        if self._owns_client:
            await self._client.aclose()

    async def _deliver(self, message: Message) -> SendResult:
        attempt = 0
        while True:
            result, retryable = await self._attempt(message)
            if result.succeeded or not retryable or attempt >= self.max_retries:
                return result
            delay = self.backoff_delay(attempt)
            logger.debug(
                "webhook_retry",
                extra={
                    "idempotency_key": message.idempotency_key,
                    "attempt": attempt + 1,
                    "reason": result.error,
                    "delay_seconds": delay,
                },
            )
            await sleep(delay)
            attempt += 1

    async def _attempt(self, message: Message) -> tuple[SendResult, bool]:
        """One POST: its result, and whether a failure is worth retrying."""
        try:
            status = await self._post(message)
        except httpx.TimeoutException:
            return SendResult(succeeded=False, error="timed out"), True
        except httpx.TransportError as error:
            reason = f"connection failed ({type(error).__name__})"
            return SendResult(succeeded=False, error=reason), True
        except httpx.HTTPError as error:
            reason = f"request failed ({type(error).__name__})"
            return SendResult(succeeded=False, error=reason), False
        if 200 <= status < 300:
            return SendResult(succeeded=True), False
        reason = f"HTTP {status}"
        return SendResult(succeeded=False, error=reason), status in _RETRYABLE_STATUSES

    async def _post(self, message: Message) -> int:
        """POST `message` and answer the status; the response body is never read."""
        async with (
            self._in_flight,
            self._client.stream(
                "POST",
                self.url,
                json=webhook_body(message),
                headers={"Idempotency-Key": message.idempotency_key},
                timeout=self.timeout,
            ) as response,
        ):
            return response.status_code

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt `attempt` (0-based).

        The ceiling doubles with each attempt; the wait is drawn between half the
        ceiling and all of it, so retries of many messages do not arrive together.
        """
        # The exponent stops growing long before the cap; it only avoids overflow.
        ceiling = min(self.backoff_base * 2 ** min(attempt, 32), MAX_BACKOFF_SECONDS)
        return random.uniform(ceiling / 2, ceiling)


def checked_url(url: str) -> str:
    """`url` itself, refused with ValueError unless it is an absolute http(s) URL."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ValueError(f"the webhook URL {url!r} is not a URL: {error}") from error
    port_ok = parsed.port is None or 0 < parsed.port < 2**16
    if parsed.scheme not in {"http", "https"} or not parsed.host or not port_ok:
        raise ValueError(f"the webhook URL must be absolute http(s), not {url!r}")
    return url


def webhook_body(message: Message) -> dict[str, str | int]:
    """The JSON object POSTed for `message`."""
    return {
        "idempotencyKey": message.idempotency_key,
        "executionId": str(message.execution_id),
        "stepNumber": message.step_number,
        "channel": int(message.channel),
        "recipientId": str(message.recipient_id),
        "address": message.address,
    }


async def sleep(seconds: float) -> None:
    """Wait between attempts; tests replace this to record the waits."""
    await asyncio.sleep(seconds)
