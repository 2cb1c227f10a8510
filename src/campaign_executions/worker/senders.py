"""Which sender serves which channel, as the settings say."""

from collections.abc import Mapping

from campaign_executions.config import Settings
from campaign_executions.domain import Channel

from .sender import Sender
from .simulated import SimulatedSender
from .webhook import WebhookSender

SIMULATED = "simulated"
WEBHOOK = "webhook"
SENDER_KINDS = (SIMULATED, WEBHOOK)

_VARIABLE = "CAMPAIGN_EXECUTIONS_CHANNEL_SENDERS"
_CHANNEL_NAMES: Mapping[str, Channel] = {
    **{channel.name.lower(): channel for channel in Channel},
    "inapp": Channel.IN_APP,
}


class SenderConfigError(ValueError):
    """The channel senders cannot be built from the settings."""


def build_senders(settings: Settings) -> dict[Channel, Sender]:
    """One sender per channel; channels of the same kind share one instance.

    Raises SenderConfigError when the channel list is malformed, names an
    unknown channel or sender, leaves a channel out, or needs a webhook URL
    that is unset or not an http(s) URL.
    """
    try:
        kinds = parse_channel_senders(settings.channel_senders)
        shared = {
            kind: _build_sender(kind, settings) for kind in sorted(set(kinds.values()))
        }
    except ValueError as error:
        raise SenderConfigError(str(error)) from None
    return {channel: shared[kind] for channel, kind in kinds.items()}


async def close_senders(senders: Mapping[Channel, Sender]) -> None:
    """Close each distinct sender once, even if several channels share it."""
    distinct = {id(sender): sender for sender in senders.values()}
    for sender in distinct.values():
        await sender.aclose()


def parse_channel_senders(text: str) -> dict[Channel, str]:
    """Read "email=simulated,sms=webhook,..." into each channel's sender kind."""
    kinds: dict[Channel, str] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, separator, kind = (
            piece.strip().lower() for piece in entry.partition("=")
        )
        if not separator or not name or not kind:
            raise ValueError(
                f"{_VARIABLE}: {entry!r} is not of the form channel=sender"
            )
        channel = _channel_named(name)
        if channel in kinds:
            raise ValueError(f"{_VARIABLE}: channel {name!r} is named twice")
        if kind not in SENDER_KINDS:
            raise ValueError(
                f"{_VARIABLE}: unknown sender {kind!r} for channel {name!r};"
                f" expected one of {', '.join(SENDER_KINDS)}"
            )
        kinds[channel] = kind
    _require_every_channel(kinds)
    return kinds


def _channel_named(name: str) -> Channel:
    channel = _CHANNEL_NAMES.get(name)
    if channel is None:
        expected = ", ".join(channel.name.lower() for channel in Channel)
        raise ValueError(
            f"{_VARIABLE}: unknown channel {name!r}; expected one of {expected}"
        )
    return channel


def _require_every_channel(kinds: Mapping[Channel, str]) -> None:
    missing = [channel.name.lower() for channel in Channel if channel not in kinds]
    if missing:
        raise ValueError(
            f"{_VARIABLE}: no sender for {', '.join(missing)};"
            " every channel needs one (for example email=simulated)"
        )


def _build_sender(kind: str, settings: Settings) -> Sender:
    if kind == SIMULATED:
        return SimulatedSender(
            settings.simulated_success_rate,
            settings.simulated_latency_ms,
            settings.simulated_seed,
        )
    return WebhookSender(
        _webhook_url(settings),
        settings.webhook_timeout_seconds,
        settings.webhook_max_retries,
        settings.webhook_backoff_base_seconds,
    )


def _webhook_url(settings: Settings) -> str:
    """The webhook URL, refused when unset; WebhookSender checks its form."""
    url = (settings.webhook_url or "").strip()
    if not url:
        raise ValueError(
            f"{_VARIABLE} sends a channel through the webhook sender, but"
            " CAMPAIGN_EXECUTIONS_WEBHOOK_URL is not set"
        )
    return url
