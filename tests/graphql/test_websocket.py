import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from campaign_executions.app import create_app
from campaign_executions.config import Settings
from tests.conftest import TEST_SECRET


def unused_database_app(tmp_path: Path) -> ASGIApp:
    """An app whose database is never opened: a handshake needs none."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        jwt_secret=TEST_SECRET,
    )
    return create_app(settings)


async def converse(
    app: ASGIApp, subprotocol: str, messages: list[dict[str, Any]]
) -> list[Message]:
    """Open a WebSocket on /graphql, send `messages`, hang up; what the app sent."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "subprotocols": [subprotocol],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    inbound: asyncio.Queue[Message] = asyncio.Queue()
    inbound.put_nowait({"type": "websocket.connect"})
    for message in messages:
        inbound.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})
    sent: list[Message] = []

    async def receive() -> Message:
        if inbound.empty() and sent and sent[-1]["type"] != "websocket.close":
            return {"type": "websocket.disconnect", "code": 1000}
        return await inbound.get()

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=5)
    return sent


async def test_graphql_transport_ws_is_accepted(tmp_path: Path) -> None:
    app = unused_database_app(tmp_path)

    sent = await converse(app, "graphql-transport-ws", [{"type": "connection_init"}])

    assert sent[0] == {
        "type": "websocket.accept",
        "subprotocol": "graphql-transport-ws",
        "headers": [],
    }
    assert json.loads(sent[1]["text"]) == {"type": "connection_ack"}


async def test_legacy_graphql_ws_protocol_is_refused(tmp_path: Path) -> None:
    app = unused_database_app(tmp_path)

    sent = await converse(app, "graphql-ws", [{"type": "connection_init"}])

    assert sent[0]["subprotocol"] is None
    assert sent[-1]["type"] == "websocket.close"
    assert sent[-1]["code"] == 4406
