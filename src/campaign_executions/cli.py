"""The `campaign-executions` console command and its verbs."""

import argparse
import asyncio
import logging
import secrets
import signal
import sys
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette

from .app import create_app
from .auth.permission import Permission
from .auth.token import TokenKeyError, mint_token
from .config import Settings
from .demo import build_demo_document, demo_now, keep_scheduling_runs
from .errors import ImportFileError
from .importing import ImportFile, load_import, parse_import, read_import_file
from .log import configure_logging
from .storage.engine import Database
from .storage.migrate import schema_is_current, upgrade_schema
from .storage.records import count_campaigns, list_campaign_names
from .worker.senders import SenderConfigError
from .worker.service import run_worker

logger = logging.getLogger(__name__)

MAX_TOKEN_TTL_SECONDS = 366 * 24 * 3600
WEAK_SECRET = (
    "CAMPAIGN_EXECUTIONS_JWT_SECRET is a placeholder or shorter than 32 "
    "characters; set a real secret"
)
DEMO_TOKEN_HOURS = 12
DEMO_TOKEN_TTL = timedelta(hours=DEMO_TOKEN_HOURS)
DEMO_SCHEDULE_SECONDS = 5.0
DEMO_CONCURRENCY = 2
# Small batches with some latency, so that a run takes seconds and its counters
# can be watched moving.
DEMO_PACING: dict[str, object] = {"worker_batch_size": 40, "simulated_latency_ms": 150}
REST_BASE = "/api/v1/NotificationCampaignExecution"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb; the exit status is 0 on success."""
    arguments = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        _say(_describe_settings_error(error), stream=sys.stderr)
        return 2
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    try:
        status: int = arguments.run(settings, arguments)
    except ImportFileError as error:
        _say(f"import failed: {error.message}", stream=sys.stderr)
        return 1
    except TokenKeyError as error:
        _say(f"cannot load the token keys: {error}", stream=sys.stderr)
        return 2
    except SenderConfigError as error:
        _say(f"cannot build the channel senders: {error}", stream=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status


def _describe_settings_error(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        message = problem["msg"].removeprefix("Value error, ")
        if problem["loc"]:
            name = "_".join(map(str, problem["loc"])).upper()
            message = f"CAMPAIGN_EXECUTIONS_{name}: {message}"
        problems.append(message)
    return "configuration error: " + "; ".join(problems)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campaign-executions",
        description="Run history, delivery analytics and cancel for campaigns.",
    )
    verbs = parser.add_subparsers(required=True, metavar="VERB")
    for name, run, summary in (
        ("demo", _run_demo, "load demo data and run the API with GraphiQL"),
        ("serve", _run_serve, "run the API on the configured database"),
    ):
        verb = verbs.add_parser(name, help=summary, description=summary)
        verb.add_argument("--host", default="127.0.0.1")
        verb.add_argument("--port", type=int, default=8000)
        verb.set_defaults(run=run)
    worker = verbs.add_parser("worker", help="run a campaign worker")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.set_defaults(run=_run_worker)
    verbs.add_parser("migrate", help="bring the schema up to date").set_defaults(
        run=_run_migrate
    )
    importer = verbs.add_parser("import", help="load campaigns and executions")
    importer.add_argument("file", type=Path)
    importer.set_defaults(run=_run_import)
    token = verbs.add_parser("token", help="print a bearer token")
    token.add_argument(
        "--permission",
        action="append",
        required=True,
        help="a permission to grant; repeat for several",
    )
    token.add_argument(
        "--ttl",
        type=_ttl_seconds,
        default=3600,
        help=f"lifetime in seconds, 1 to {MAX_TOKEN_TTL_SECONDS}",
    )
    token.set_defaults(run=_run_token)
    return parser


def _ttl_seconds(text: str) -> int:
    """A token lifetime in whole seconds, within bounds."""
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number of seconds") from None
    if not 1 <= seconds <= MAX_TOKEN_TTL_SECONDS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_TOKEN_TTL_SECONDS}")
    return seconds


def _say(text: str, *, stream: TextIO | None = None) -> None:
    """Write a line for the person at the terminal."""
    out = stream or sys.stdout
    out.write(text + "\n")
    out.flush()


def _run_migrate(settings: Settings, _arguments: argparse.Namespace) -> int:
    asyncio.run(_migrate(settings.database_url))
    _say("schema is up to date")
    return 0


async def _migrate(database_url: str) -> None:
    database = Database.from_url(database_url)
    try:
        await upgrade_schema(database.engine)
    finally:
        await database.dispose()


def _run_import(settings: Settings, arguments: argparse.Namespace) -> int:
    data = read_import_file(arguments.file)
    asyncio.run(_import(settings.database_url, data))
    _say(
        f"imported {len(data.campaigns)} campaigns and "
        f"{len(data.executions)} executions from {arguments.file}"
    )
    return 0


async def _import(database_url: str, data: ImportFile) -> None:
    database = Database.from_url(database_url)
    try:
        await upgrade_schema(database.engine)
        await load_import(database, data)
    finally:
        await database.dispose()


def _run_token(settings: Settings, arguments: argparse.Namespace) -> int:
    if not settings.jwt_secret:
        _say(
            "token needs CAMPAIGN_EXECUTIONS_JWT_SECRET: the key the service checks",
            stream=sys.stderr,
        )
        return 2
    if not settings.has_real_secret:
        _say(WEAK_SECRET, stream=sys.stderr)
        return 2
    ttl = timedelta(seconds=arguments.ttl)
    _say(mint_token(settings, permissions=arguments.permission, ttl=ttl))
    return 0


def _run_worker(settings: Settings, arguments: argparse.Namespace) -> int:
    if arguments.concurrency < 1:
        _say("--concurrency must be 1 or more", stream=sys.stderr)
        return 2
    return asyncio.run(_work(settings, concurrency=arguments.concurrency))


async def _work(settings: Settings, *, concurrency: int) -> int:
    database = Database.from_url(settings.database_url)
    try:
        if not await schema_is_current(database.engine):
            _say(
                "the database schema is not up to date: run "
                "`campaign-executions migrate` first",
                stream=sys.stderr,
            )
            return 2
        await run_worker(
            settings, database, _stop_on_signals(), concurrency=concurrency
        )
        return 0
    finally:
        await database.dispose()


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: finish the batch in hand, then stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    return stop


def _run_serve(settings: Settings, arguments: argparse.Namespace) -> int:
    if not settings.has_token_key:
        _say(
            "serve needs a token key: set CAMPAIGN_EXECUTIONS_JWT_SECRET, "
            "CAMPAIGN_EXECUTIONS_JWT_PUBLIC_KEY_FILE or CAMPAIGN_EXECUTIONS_JWT_JWKS_FILE",
            stream=sys.stderr,
        )
        return 2
    if settings.jwt_secret and not settings.has_real_secret:
        _say(WEAK_SECRET, stream=sys.stderr)
        return 2
    _serve(settings, host=arguments.host, port=arguments.port)
    return 0


def _serve(settings: Settings, *, host: str, port: int) -> None:
    uvicorn.Server(_server_config(create_app(settings), host=host, port=port)).run()


def _server_config(app: Starlette, *, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="on")


def _run_demo(settings: Settings, arguments: argparse.Namespace) -> int:
    settings = _demo_settings(settings)
    loaded, campaigns = asyncio.run(_prepare_demo_database(settings.database_url))
    base = f"http://{arguments.host}:{arguments.port}"
    token = mint_token(settings, permissions=list(Permission), ttl=DEMO_TOKEN_TTL)
    state = "demo data loaded" if loaded else "not empty: kept as it was"
    lines = [
        f"database:  {settings.database_url} ({state})",
        f"GraphiQL:  {base}/graphql",
        f"REST base: {base}{REST_BASE}",
        "campaigns:",
        *(f"  {campaign_id}  {name}" for campaign_id, name in campaigns),
        f"bearer token (every permission, valid {DEMO_TOKEN_HOURS} hours):",
        token,
        f"a worker runs in this process; a new run is scheduled every "
        f"{DEMO_SCHEDULE_SECONDS:g} s",
    ]
    _say("\n".join(lines))
    asyncio.run(_demo(settings, host=arguments.host, port=arguments.port))
    return 0


def _demo_settings(settings: Settings) -> Settings:
    """GraphiQL on, a secret for this run if none is set, and runs slow enough to
    watch (unless the environment says otherwise)."""
    chosen = settings.model_fields_set
    overrides: dict[str, object] = {"graphiql": True}
    if not settings.jwt_secret:
        overrides["jwt_secret"] = secrets.token_urlsafe(32)
    for name, value in DEMO_PACING.items():
        if name not in chosen:
            overrides[name] = value
    return settings.model_copy(update=overrides)


async def _demo(settings: Settings, *, host: str, port: int) -> None:
    """The API, a worker and a stream of newly scheduled runs, in one process."""
    database = Database.from_url(settings.database_url)
    server = uvicorn.Server(
        _server_config(create_app(settings, database), host=host, port=port)
    )
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            await server.serve()
        finally:
            stop.set()

    try:
        await asyncio.gather(
            serve(),
            run_worker(settings, database, stop, concurrency=DEMO_CONCURRENCY),
            keep_scheduling_runs(database, stop, every=DEMO_SCHEDULE_SECONDS),
        )
    finally:
        await database.dispose()


async def _prepare_demo_database(
    database_url: str,
) -> tuple[bool, list[tuple[uuid.UUID, str]]]:
    """Migrate, load the demo data into an empty database; list its campaigns."""
    database = Database.from_url(database_url)
    try:
        await upgrade_schema(database.engine)
        async with database.read() as session:
            empty = await count_campaigns(session) == 0
        if empty:
            document = build_demo_document(now=demo_now())
            await load_import(database, parse_import(document))
            logger.info(
                "demo_data_loaded", extra={"executions": len(document["executions"])}
            )
        async with database.read() as session:
            return empty, await list_campaign_names(session)
    finally:
        await database.dispose()
