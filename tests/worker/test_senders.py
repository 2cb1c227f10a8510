from collections.abc import Sequence

import httpx
import pydantic
import pytest

from campaign_executions.config import Settings
from campaign_executions.domain import Channel
from campaign_executions.worker.sender import Message, SendResult
from campaign_executions.worker.senders import build_senders, close_senders
from campaign_executions.worker.simulated import SimulatedSender
from campaign_executions.worker.webhook import WebhookSender

LOOPBACK_URL = "http://127.0.0.1:9/deliver"
ALL_SIMULATED = (
    "email=simulated,sms=simulated,push=simulated,"
    "in_app=simulated,whatsapp=simulated,webhook=simulated"
)


class CountingSender:
    """A sender that only counts how often it is closed."""

    def __init__(self) -> None:
        self.closed = 0

    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        return [SendResult(succeeded=True) for _ in messages]

    async def aclose(self) -> None:
        self.closed += 1


async def test_build_senders_defaults_every_channel_to_one_simulated_sender():
    settings = Settings(
        simulated_success_rate=0.5, simulated_latency_ms=20, simulated_seed=9
    )

    senders = build_senders(settings)

    [sender] = {id(sender): sender for sender in senders.values()}.values()
    assert set(senders) == set(Channel)
    assert isinstance(sender, SimulatedSender)
    assert (sender.success_rate, sender.latency_ms, sender.seed) == (0.5, 20, 9)


async def test_build_senders_shares_one_webhook_sender_between_its_channels():
    settings = Settings(
        channel_senders=(
            "email=simulated, SMS=webhook, push=webhook,"
            "in_app=simulated, whatsapp=simulated, webhook = webhook"
        ),
        webhook_url=LOOPBACK_URL,
        webhook_timeout_seconds=2,
        webhook_max_retries=1,
        webhook_backoff_base_seconds=0.25,
    )

    senders = build_senders(settings)

    hook = senders[Channel.WEBHOOK]
    assert isinstance(hook, WebhookSender)
    assert senders[Channel.SMS] is hook
    assert senders[Channel.PUSH] is hook
    assert (hook.url, hook.timeout, hook.max_retries, hook.backoff_base) == (
        LOOPBACK_URL,
        httpx.Timeout(2),
        1,
        0.25,
    )
    assert isinstance(senders[Channel.EMAIL], SimulatedSender)
    assert senders[Channel.EMAIL] is senders[Channel.WHATSAPP]
    await close_senders(senders)


@pytest.mark.parametrize("name", ["in_app", "inapp", "IN_APP", " InApp "])
async def test_build_senders_accepts_both_in_app_spellings(name):
    text = ALL_SIMULATED.replace("in_app=simulated", f"{name}=webhook")
    settings = Settings(channel_senders=text, webhook_url=LOOPBACK_URL)

    senders = build_senders(settings)

    assert isinstance(senders[Channel.IN_APP], WebhookSender)
    assert isinstance(senders[Channel.EMAIL], SimulatedSender)
    await close_senders(senders)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ALL_SIMULATED + ",fax=simulated", "unknown channel 'fax'"),
        (
            ALL_SIMULATED.replace("sms=simulated", "sms=pigeon"),
            "unknown sender 'pigeon'",
        ),
        (ALL_SIMULATED + ",email", "'email' is not of the form channel=sender"),
        (ALL_SIMULATED + ",=simulated", "not of the form channel=sender"),
        (ALL_SIMULATED + ",sms=", "not of the form channel=sender"),
        (ALL_SIMULATED + ",inapp=simulated", "channel 'inapp' is named twice"),
        (
            "email=simulated,sms=simulated",
            "no sender for push, in_app, whatsapp, webhook",
        ),
        ("", "no sender for email, sms, push, in_app, whatsapp, webhook"),
    ],
    ids=[
        "unknown-channel",
        "unknown-sender",
        "no-equals",
        "no-channel",
        "no-sender",
        "duplicate",
        "missing-channels",
        "empty",
    ],
)
async def test_build_senders_refuses_a_bad_channel_list(text, message):
    settings = Settings(channel_senders=text, webhook_url=LOOPBACK_URL)

    with pytest.raises(ValueError, match="CAMPAIGN_EXECUTIONS_CHANNEL_SENDERS") as info:
        build_senders(settings)

    assert message in str(info.value)


@pytest.mark.parametrize("url", [None, "", "   "])
async def test_build_senders_refuses_a_webhook_channel_without_a_url(url):
    text = ALL_SIMULATED.replace("webhook=simulated", "webhook=webhook")
    settings = Settings(channel_senders=text, webhook_url=url)

    with pytest.raises(ValueError, match="CAMPAIGN_EXECUTIONS_WEBHOOK_URL is not set"):
        build_senders(settings)


async def test_build_senders_refuses_a_webhook_url_that_is_not_http():
    text = ALL_SIMULATED.replace("webhook=simulated", "webhook=webhook")
    settings = Settings(channel_senders=text, webhook_url="ftp://127.0.0.1/hooks")

    with pytest.raises(ValueError, match="absolute http"):
        build_senders(settings)


async def test_close_senders_closes_each_distinct_sender_once():
    shared, alone = CountingSender(), CountingSender()
    senders = {Channel.EMAIL: shared, Channel.SMS: shared, Channel.PUSH: alone}

    await close_senders(senders)

    assert (shared.closed, alone.closed) == (1, 1)


async def test_settings_read_the_sender_variables_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("CAMPAIGN_EXECUTIONS_CHANNEL_SENDERS", "email=webhook")
    monkeypatch.setenv("CAMPAIGN_EXECUTIONS_WEBHOOK_URL", LOOPBACK_URL)
    monkeypatch.setenv("CAMPAIGN_EXECUTIONS_WEBHOOK_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("CAMPAIGN_EXECUTIONS_WEBHOOK_MAX_RETRIES", "0")
    monkeypatch.setenv("CAMPAIGN_EXECUTIONS_WEBHOOK_BACKOFF_BASE_SECONDS", "2")

    settings = Settings()

    assert settings.channel_senders == "email=webhook"
    assert settings.webhook_url == LOOPBACK_URL
    assert settings.webhook_timeout_seconds == 1.5
    assert settings.webhook_max_retries == 0
    assert settings.webhook_backoff_base_seconds == 2


@pytest.mark.parametrize(
    "field",
    [
        {"webhook_timeout_seconds": 0},
        {"webhook_max_retries": -1},
        {"webhook_backoff_base_seconds": -1},
    ],
)
async def test_settings_refuse_webhook_values_out_of_range(field):
    with pytest.raises(pydantic.ValidationError):
        Settings(**field)
