"""The webhook sender against a real HTTP server on the loopback interface."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaign_executions.worker.sender import SendResult
from campaign_executions.worker.webhook import WebhookSender
from tests.worker.helpers import messages

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class Receiver:
    """A tiny webhook endpoint: refuses the first try of some keys, rejects others."""

    def __init__(self, *, flaky: set[str], rejected: set[str]) -> None:
        self.flaky = flaky
        self.rejected = rejected
        self.received: list[tuple[str, dict[str, object]]] = []

    async def deliver(self, request: Request) -> Response:
        key = request.headers["idempotency-key"]
        self.received.append((key, await request.json()))
        if key in self.rejected:
            return Response(status_code=422)
        if key in self.flaky:
            self.flaky.discard(key)
            return Response(status_code=503)
        return Response(status_code=204)


@contextlib.asynccontextmanager
async def serve_on_loopback(receiver: Receiver) -> AsyncIterator[str]:
    """Run the receiver under uvicorn on a free 127.0.0.1 port; yield its URL."""
    app = Starlette(routes=[Route("/deliver", receiver.deliver, methods=["POST"])])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_config=None, access_log=False, ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises why the server could not start
                pytest.fail("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}/deliver"
    finally:
        server.should_exit = True
        await task
        listener.close()


async def test_send_batch_delivers_to_a_real_server(monkeypatch: pytest.MonkeyPatch):
    # The sender's own client must go straight to the loopback server.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    batch = messages(3)
    ok, flaky, rejected = (item.idempotency_key for item in batch)
    receiver = Receiver(flaky={flaky}, rejected={rejected})

    async with serve_on_loopback(receiver) as url:
        sender = WebhookSender(url, 5, 2, 0.01)
        results = await sender.send_batch(batch)
        await sender.aclose()

    assert results == [
        SendResult(succeeded=True),
        SendResult(succeeded=True),
        SendResult(succeeded=False, error="HTTP 422"),
    ]
    assert sorted(key for key, _ in receiver.received) == sorted(
        [ok, flaky, flaky, rejected]
    )
    assert {key: body["address"] for key, body in receiver.received} == {
        ok: "recipient-0@example.test",
        flaky: "recipient-1@example.test",
        rejected: "recipient-2@example.test",
    }
