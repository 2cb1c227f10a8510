import pytest

from campaign_executions.domain import Channel
from campaign_executions.worker.simulated import FAILURE_REASONS, SimulatedSender
from tests.worker.helpers import RecordedSleep, message, messages

RATE_SAMPLE = 10_000
# Over 10,000 messages one standard deviation is at most 50 successes: allow 3.
RATE_TOLERANCE = 150


async def test_send_batch_repeats_outcomes_for_the_same_seed():
    batch = messages(2_000)

    first = await SimulatedSender(0.5, 0, 7).send_batch(batch)
    again = await SimulatedSender(0.5, 0, 7).send_batch(batch)
    other_seed = await SimulatedSender(0.5, 0, 8).send_batch(batch)

    assert first == again
    assert first != other_seed


async def test_send_batch_outcomes_do_not_depend_on_batch_order():
    batch = messages(500)
    whole = await SimulatedSender(0.5, 0, 11).send_batch(batch)

    sender = SimulatedSender(0.5, 0, 11)
    backwards = await sender.send_batch(batch[::-1])
    in_pieces = [
        result
        for start in range(0, len(batch), 7)
        for result in await sender.send_batch(batch[start : start + 7])
    ]

    assert backwards[::-1] == whole
    assert in_pieces == whole


@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 0.97, 1.0])
async def test_send_batch_succeeds_at_the_configured_rate(rate):
    sender = SimulatedSender(rate, 0, 2026)

    results = await sender.send_batch(messages(RATE_SAMPLE))

    successes = sum(result.succeeded for result in results)
    assert len(results) == RATE_SAMPLE
    assert abs(successes - rate * RATE_SAMPLE) <= RATE_TOLERANCE
    if rate in {0.0, 1.0}:
        assert successes == rate * RATE_SAMPLE


async def test_send_batch_gives_a_resent_message_its_first_outcome():
    sender = SimulatedSender(0.5, 0, 3)
    batch = messages(200)
    first = await sender.send_batch(batch)

    resent = await sender.send_batch([batch[5], batch[0], batch[150]])

    assert {result.succeeded for result in first} == {True, False}
    assert resent == [first[5], first[0], first[150]]


async def test_send_counts_records_each_key_as_often_as_it_was_sent():
    sender = SimulatedSender(0.5, 0, 3)
    batch = messages(3)

    await sender.send_batch(batch)
    await sender.send_batch(batch[:1])

    assert dict(sender.send_counts) == {
        batch[0].idempotency_key: 2,
        batch[1].idempotency_key: 1,
        batch[2].idempotency_key: 1,
    }


async def test_send_counts_cannot_be_changed_from_outside():
    sender = SimulatedSender(1.0, 0, 3)
    await sender.send_batch([message()])

    with pytest.raises(TypeError):
        sender.send_counts[message().idempotency_key] = 0  # type: ignore[index]

    assert sender.send_counts[message().idempotency_key] == 1


async def test_send_batch_sleeps_the_latency_once_per_batch():
    sleep = RecordedSleep()
    sender = SimulatedSender(1.0, 250, 1, sleep=sleep)

    await sender.send_batch(messages(5))
    await sender.send_batch(messages(2))

    assert sleep.waits == [0.25, 0.25]


@pytest.mark.parametrize(
    ("latency_ms", "batch_size"), [(0, 5), (250, 0)], ids=["no-latency", "empty"]
)
async def test_send_batch_does_not_sleep_without_latency_or_messages(
    latency_ms, batch_size
):
    sleep = RecordedSleep()
    sender = SimulatedSender(1.0, latency_ms, 1, sleep=sleep)

    results = await sender.send_batch(messages(batch_size))

    assert sleep.waits == []
    assert len(results) == batch_size


@pytest.mark.parametrize(
    ("channel", "reason"),
    [
        (Channel.EMAIL, "mailbox full"),
        (Channel.SMS, "number unreachable"),
        (Channel.PUSH, "device token expired"),
        (Channel.IN_APP, "user account disabled"),
        (Channel.WHATSAPP, "number not on WhatsApp"),
        (Channel.WEBHOOK, "connection refused"),
    ],
)
async def test_send_batch_gives_failures_a_reason_of_their_channel(channel, reason):
    sender = SimulatedSender(0.0, 0, 5)

    results = await sender.send_batch(messages(300, channel=channel))

    errors = {result.error for result in results}
    assert not any(result.succeeded for result in results)
    assert reason in errors
    assert errors == set(FAILURE_REASONS[channel])


async def test_send_batch_gives_successes_no_error():
    sender = SimulatedSender(1.0, 0, 5)

    results = await sender.send_batch(messages(50))

    assert all(result.succeeded and result.error is None for result in results)


@pytest.mark.parametrize(
    ("success_rate", "latency_ms"), [(1.5, 0), (-0.1, 0), (0.5, -1)]
)
async def test_simulated_sender_refuses_settings_out_of_range(success_rate, latency_ms):
    with pytest.raises(ValueError, match=r"success_rate|latency_ms"):
        SimulatedSender(success_rate, latency_ms, 1)


async def test_simulated_sender_draws_a_seed_when_none_is_given():
    batch = messages(1_000)
    unseeded = SimulatedSender(0.5, 0, None)
    other = SimulatedSender(0.5, 0, None)

    replayed = SimulatedSender(0.5, 0, unseeded.seed)

    assert unseeded.seed != other.seed
    assert await unseeded.send_batch(batch) == await replayed.send_batch(batch)
    assert await other.send_batch(batch) != await replayed.send_batch(batch)
