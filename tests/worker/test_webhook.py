import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from campaign_executions.domain import Channel
from campaign_executions.worker import webhook
from campaign_executions.worker.sender import Message, SendResult
from campaign_executions.worker.webhook import (
    MAX_BACKOFF_SECONDS,
    MAX_IN_FLIGHT,
    WebhookSender,
)
from tests.worker.helpers import RecordedSleep, message, messages

URL = "http://hooks.test/deliver"

Reply = int | type[httpx.RequestError]


class Endpoint:
    """A scripted webhook endpoint: each request takes the next reply, then 200."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else 200
        if isinstance(reply, int):
            return httpx.Response(reply)
        raise reply("scripted failure", request=request)


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> RecordedSleep:
    """Every wait between attempts, recorded instead of slept."""
    sleep = RecordedSleep()
    monkeypatch.setattr(webhook, "sleep", sleep)
    return sleep


@pytest.fixture
async def make_sender() -> AsyncIterator[Callable[..., WebhookSender]]:
    """Builds a WebhookSender whose requests go to a handler, never a network."""
    clients: list[httpx.AsyncClient] = []

    def build(handler, *, max_retries=3, timeout=5.0, backoff_base=0.5):
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        clients.append(client)
        return WebhookSender(URL, timeout, max_retries, backoff_base, client)

    yield build
    for client in clients:
        await client.aclose()


async def send_one(sender: WebhookSender, item: Message | None = None) -> SendResult:
    [result] = await sender.send_batch([item or message()])
    return result


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_send_batch_succeeds_on_2xx(make_sender, waits, status):
    endpoint = Endpoint(status)

    result = await send_one(make_sender(endpoint))

    assert result == SendResult(succeeded=True)
    assert len(endpoint.requests) == 1
    assert waits.waits == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422, 302])
async def test_send_batch_fails_at_once_on_4xx_and_other_statuses(
    make_sender, waits, status
):
    endpoint = Endpoint(status)

    result = await send_one(make_sender(endpoint))

    assert result == SendResult(succeeded=False, error=f"HTTP {status}")
    assert len(endpoint.requests) == 1
    assert waits.waits == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
async def test_send_batch_retries_5xx_and_429_until_2xx(make_sender, waits, status):
    endpoint = Endpoint(status, status, 200)

    result = await send_one(make_sender(endpoint, max_retries=3))

    assert result.succeeded
    assert len(endpoint.requests) == 3
    assert len(waits.waits) == 2


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.ConnectError,
        httpx.ReadError,
        httpx.RemoteProtocolError,
    ],
)
async def test_send_batch_retries_timeouts_and_connection_errors(
    make_sender, waits, error
):
    endpoint = Endpoint(error, 200)

    result = await send_one(make_sender(endpoint, max_retries=1))

    assert result.succeeded
    assert len(endpoint.requests) == 2
    assert len(waits.waits) == 1


@pytest.mark.parametrize(
    ("replies", "reason"),
    [
        ((500, 502, 503), "HTTP 503"),
        ((503, 503, 429), "HTTP 429"),
        ((503, 503, httpx.ReadTimeout), "timed out"),
        (
            (httpx.ReadTimeout, 500, httpx.ConnectError),
            "connection failed (ConnectError)",
        ),
    ],
)
async def test_send_batch_fails_with_the_last_reason_when_retries_run_out(
    make_sender, waits, replies, reason
):
    # The endpoint would answer 200 to a fourth attempt: there must be none.
    endpoint = Endpoint(*replies)

    result = await send_one(make_sender(endpoint, max_retries=2))

    assert result == SendResult(succeeded=False, error=reason)
    assert len(endpoint.requests) == 3
    assert len(waits.waits) == 2


async def test_send_batch_without_retries_tries_once(make_sender, waits):
    endpoint = Endpoint(503)

    result = await send_one(make_sender(endpoint, max_retries=0))

    assert result == SendResult(succeeded=False, error="HTTP 503")
    assert len(endpoint.requests) == 1
    assert waits.waits == []


async def test_send_batch_fails_other_http_errors_without_retrying(make_sender):
    endpoint = Endpoint(httpx.DecodingError)

    result = await send_one(make_sender(endpoint))

    assert result == SendResult(succeeded=False, error="request failed (DecodingError)")
    assert len(endpoint.requests) == 1


async def test_send_batch_posts_the_message_as_json_with_its_idempotency_key(
    make_sender,
):
    endpoint = Endpoint()
    item = message(6, channel=Channel.SMS, step_number=2)

    await send_one(make_sender(endpoint), item)

    [request] = endpoint.requests
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["Idempotency-Key"] == (
        "5b6c7d80-0000-0000-0000-000000000001:2:00000000-0000-0000-0000-000000000007"
    )
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "idempotencyKey": (
            "5b6c7d80-0000-0000-0000-000000000001:2:"
            "00000000-0000-0000-0000-000000000007"
        ),
        "executionId": "5b6c7d80-0000-0000-0000-000000000001",
        "stepNumber": 2,
        "channel": 2,
        "recipientId": "00000000-0000-0000-0000-000000000007",
        "address": "recipient-6@example.test",
    }


async def test_send_batch_resends_the_same_key_and_body_on_retry(make_sender):
    endpoint = Endpoint(503, httpx.ConnectError)

    await send_one(make_sender(endpoint))

    keys = {request.headers["Idempotency-Key"] for request in endpoint.requests}
    bodies = {request.content for request in endpoint.requests}
    assert len(endpoint.requests) == 3
    assert keys == {message().idempotency_key}
    assert len(bodies) == 1


async def test_send_batch_applies_the_timeout_to_every_attempt(make_sender):
    endpoint = Endpoint(503)

    await send_one(make_sender(endpoint, timeout=2.5))

    expected = {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    assert len(endpoint.requests) == 2
    assert all(r.extensions["timeout"] == expected for r in endpoint.requests)


async def test_send_batch_answers_in_message_order(make_sender):
    def handler(request: httpx.Request) -> httpx.Response:
        number = int(json.loads(request.content)["address"].split("-")[1].split("@")[0])
        return httpx.Response(200 if number % 3 else 404)

    results = await make_sender(handler).send_batch(messages(30))

    assert [result.succeeded for result in results] == [
        number % 3 != 0 for number in range(30)
    ]


async def test_send_batch_keeps_at_most_sixteen_requests_in_flight(make_sender):
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200)

    results = await make_sender(handler).send_batch(messages(3 * MAX_IN_FLIGHT))

    assert all(result.succeeded for result in results)
    assert MAX_IN_FLIGHT == 16
    assert peak == MAX_IN_FLIGHT


async def test_send_batch_backs_off_exponentially_with_jitter(make_sender, waits):
    first_waits = []
    for _ in range(20):
        waits.waits.clear()
        await send_one(make_sender(Endpoint(503, 503, 503, 503), backoff_base=0.2))

        first, second, third = waits.waits
        assert 0.1 <= first <= 0.2
        assert 0.2 <= second <= 0.4
        assert 0.4 <= third <= 0.8
        first_waits.append(first)

    assert len(set(first_waits)) > 1


async def test_backoff_delay_never_exceeds_the_cap():
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(URL, 5, 100, 1.0, client)

        delays = [sender.backoff_delay(attempt) for attempt in (10, 100, 10_000)]

    assert all(
        MAX_BACKOFF_SECONDS / 2 <= delay <= MAX_BACKOFF_SECONDS for delay in delays
    )


async def test_aclose_leaves_a_client_it_was_given_open():
    async with httpx.AsyncClient(transport=httpx.MockTransport(Endpoint())) as client:
        sender = WebhookSender(URL, 5, 3, 0.5, client)

        await sender.aclose()

        assert not client.is_closed


async def test_send_batch_with_no_messages_sends_nothing(make_sender):
    endpoint = Endpoint()

    assert await make_sender(endpoint).send_batch([]) == []
    assert endpoint.requests == []


@pytest.mark.parametrize(
    ("url", "seconds", "max_retries", "backoff_base", "match"),
    [
        ("ftp://hooks.test/x", 5, 3, 0.5, "http"),
        ("hooks.test/x", 5, 3, 0.5, "http"),
        ("http://", 5, 3, 0.5, "http"),
        ("http://[::1", 5, 3, 0.5, "not a URL"),
        ("http://hooks.test:70000/x", 5, 3, 0.5, "http"),
        (URL, 0, 3, 0.5, "timeout"),
        (URL, 5, -1, 0.5, "max_retries"),
        (URL, 5, 3, -0.5, "backoff_base"),
    ],
)
async def test_webhook_sender_refuses_bad_arguments(
    url, seconds, max_retries, backoff_base, match
):
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match=match):
            WebhookSender(url, seconds, max_retries, backoff_base, client)
