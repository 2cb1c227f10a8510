import asyncio
import json
from pathlib import Path

import httpx
import pytest

from campaign_executions.auth.token import TokenVerifier
from campaign_executions.cli import main
from campaign_executions.config import Settings
from tests.conftest import TEST_SECRET
from tests.factories import SEED_DETAILS

ENV = "CAMPAIGN_EXECUTIONS_"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv(f"{ENV}DATABASE_URL", database_url)
    monkeypatch.setenv(f"{ENV}JWT_SECRET", TEST_SECRET)


def test_token_prints_a_token_the_service_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv(f"{ENV}JWT_SECRET", TEST_SECRET)

    status = main(["token", "--permission", "NotificationCampaigns.Cancel"])

    token = capsys.readouterr().out.strip()
    principal = TokenVerifier(Settings(jwt_secret=TEST_SECRET)).verify(token)
    assert status == 0
    assert principal.permissions == {"NotificationCampaigns.Cancel"}


def test_token_without_a_secret_explains_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.delenv(f"{ENV}JWT_SECRET", raising=False)

    assert main(["token", "--permission", "x"]) == 2
    assert "CAMPAIGN_EXECUTIONS_JWT_SECRET" in capsys.readouterr().err


@pytest.mark.parametrize("secret", [None, "changeme", "short-secret"])
def test_serve_refuses_to_start_without_a_real_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secret
):
    for name in ("JWT_SECRET", "JWT_PUBLIC_KEY_FILE", "JWT_JWKS_FILE"):
        monkeypatch.delenv(f"{ENV}{name}", raising=False)
    if secret:
        monkeypatch.setenv(f"{ENV}JWT_SECRET", secret)

    assert main(["serve", "--port", "1"]) == 2
    assert "CAMPAIGN_EXECUTIONS_JWT" in capsys.readouterr().err


def test_worker_refuses_a_concurrency_below_one(capsys: pytest.CaptureFixture[str]):
    assert main(["worker", "--concurrency", "0"]) == 2
    assert "--concurrency must be 1 or more" in capsys.readouterr().err


async def test_imported_seed_details_round_trip_through_get_details(
    cli_env: None, tmp_path: Path, client: httpx.AsyncClient, auth_headers
):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"executions": [SEED_DETAILS]}), encoding="utf-8")

    status = await asyncio.to_thread(main, ["import", str(path)])
    response = await client.get(
        f"/api/v1/NotificationCampaignExecution/GetDetails/{SEED_DETAILS['id']}",
        headers=auth_headers,
    )

    assert status == 0
    assert response.status_code == 200
    body = response.json()
    assert body == {"succeeded": True, "message": None, "data": SEED_DETAILS}
    assert list(body["data"]) == list(SEED_DETAILS)


async def test_import_of_a_bad_file_exits_1_and_loads_nothing(
    cli_env: None, tmp_path: Path, client: httpx.AsyncClient, auth_headers, capsys
):
    good = dict(SEED_DETAILS)
    bad = dict(SEED_DETAILS, id="4a5b6c70-0000-0000-0000-000000000002", status=7)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"executions": [good, bad]}), encoding="utf-8")

    status = await asyncio.to_thread(main, ["import", str(path)])
    response = await client.get(
        f"/api/v1/NotificationCampaignExecution/GetDetails/{SEED_DETAILS['id']}",
        headers=auth_headers,
    )

    assert status == 1
    assert "executions[1]" in capsys.readouterr().err
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("LOG_LEVEL", "LOUD", "CAMPAIGN_EXECUTIONS_LOG_LEVEL"),
        ("DATABASE_URL", "mysql://root@127.0.0.1/x", "postgresql+asyncpg://"),
        ("MAX_PAGE_SIZE", "zero", "CAMPAIGN_EXECUTIONS_MAX_PAGE_SIZE"),
    ],
)
def test_bad_configuration_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name,
    value,
    expected,
):
    monkeypatch.setenv(f"{ENV}{name}", value)

    assert main(["token", "--permission", "x"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err
    assert expected in err
    assert "Traceback" not in err


@pytest.mark.parametrize("ttl", ["0", "-5", "99999999999999", "soon"])
def test_token_refuses_a_lifetime_out_of_bounds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ttl
):
    monkeypatch.setenv(f"{ENV}JWT_SECRET", TEST_SECRET)

    with pytest.raises(SystemExit) as exit_info:
        main(["token", "--permission", "x", "--ttl", ttl])

    assert exit_info.value.code == 2
    assert "--ttl" in capsys.readouterr().err


def test_token_refuses_a_weak_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv(f"{ENV}JWT_SECRET", "x")

    assert main(["token", "--permission", "x"]) == 2
    assert "shorter than 32" in capsys.readouterr().err


@pytest.mark.parametrize("content", [None, "not a key", '{"keys": "nope"}'])
def test_serve_with_an_unusable_key_file_says_so(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content,
):
    key_file = tmp_path / "keys.json"
    if content is not None:
        key_file.write_text(content)
    monkeypatch.delenv(f"{ENV}JWT_SECRET", raising=False)
    monkeypatch.setenv(f"{ENV}JWT_JWKS_FILE", str(key_file))

    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "cannot load the token keys" in err
    assert "Traceback" not in err


def test_worker_refuses_an_unmigrated_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    monkeypatch.setenv(
        f"{ENV}DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    )

    assert main(["worker"]) == 2
    assert "campaign-executions migrate" in capsys.readouterr().err


def test_worker_with_bad_channel_senders_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    monkeypatch.setenv(f"{ENV}DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv(f"{ENV}CHANNEL_SENDERS", "email=pigeon")
    assert main(["migrate"]) == 0

    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "cannot build the channel senders" in err
    assert "Traceback" not in err


def test_heartbeat_longer_than_half_the_lease_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv(f"{ENV}WORKER_LEASE_SECONDS", "2")
    monkeypatch.setenv(f"{ENV}WORKER_HEARTBEAT_SECONDS", "10")

    assert main(["worker"]) == 2
    assert "WORKER_HEARTBEAT_SECONDS" in capsys.readouterr().err
