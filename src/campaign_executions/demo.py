"""The demo data set: realistic campaigns and months of run history.

It is built as an import document, so the demo loads through the same
validation and storage path as `campaign-executions import`.
"""

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .domain import Audience, Channel, ExecutionStatus, format_utc
from .storage.claim import schedule_execution
from .storage.engine import Database
from .storage.records import list_campaign_names

logger = logging.getLogger(__name__)

SEED_CAMPAIGN_ID = "3c4d5e60-0000-0000-0000-000000000001"
SEED_EXECUTION_ID = "4a5b6c70-0000-0000-0000-000000000001"
FAILURE_REASONS = (
    "Email provider rejected the batch: daily sending quota exceeded.",
    "SMS gateway timed out after 3 retries.",
    "Webhook endpoint answered 410 Gone; the run was stopped.",
    "Push credentials expired; renew the APNs certificate.",
)

Document = dict[str, Any]


@dataclass(frozen=True)
class CampaignPlan:
    """A demo campaign: its name, steps (channel, audience) and audience size."""

    name: str
    steps: tuple[tuple[Channel, Audience], ...]
    recipients: int
    success_rate: float


PLANS = (
    CampaignPlan(
        "Spring sale announcement", ((Channel.EMAIL, Audience.ALL),), 1200, 0.985
    ),
    CampaignPlan(
        "Onboarding nudge",
        (
            (Channel.EMAIL, Audience.ALL),
            (Channel.PUSH, Audience.FAILED_PREVIOUS),
            (Channel.SMS, Audience.FAILED_PREVIOUS),
        ),
        800,
        0.93,
    ),
    CampaignPlan(
        "Payment reminder",
        ((Channel.SMS, Audience.ALL), (Channel.WHATSAPP, Audience.FAILED_PREVIOUS)),
        450,
        0.96,
    ),
    CampaignPlan(
        "Release notes digest",
        (
            (Channel.IN_APP, Audience.ALL),
            (Channel.EMAIL, Audience.ALL),
            (Channel.WEBHOOK, Audience.SUCCEEDED_PREVIOUS),
            (Channel.PUSH, Audience.SUCCEEDED_PREVIOUS),
        ),
        300,
        0.97,
    ),
    CampaignPlan(
        "Order shipped",
        ((Channel.PUSH, Audience.ALL), (Channel.EMAIL, Audience.FAILED_PREVIOUS)),
        650,
        0.9,
    ),
    CampaignPlan("Partner sync", ((Channel.WEBHOOK, Audience.ALL),), 60, 0.99),
)


def build_demo_document(
    *, now: datetime, runs_per_campaign: int = 500, seed: int = 7
) -> Document:
    """The whole demo data set as an import document, the same for the same seed."""
    rng = random.Random(seed)
    campaigns: list[Document] = [_seed_campaign(rng)]
    executions: list[Document] = [_seed_execution()]
    for plan in PLANS:
        campaign = _campaign(rng, plan)
        campaigns.append(campaign)
        executions += [
            _execution(rng, plan, campaign["id"], now=now, index=index)
            for index in range(runs_per_campaign)
        ]
    return {"campaigns": campaigns, "executions": executions}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _recipients(rng: random.Random, count: int, domain: str) -> list[Document]:
    return [
        {"id": _uuid(rng), "address": f"user{number}@{domain}"}
        for number in range(1, count + 1)
    ]


def _campaign(rng: random.Random, plan: CampaignPlan) -> Document:
    return {
        "id": _uuid(rng),
        "name": plan.name,
        "isActive": True,
        "steps": [
            {"stepNumber": number, "channel": int(channel), "audience": str(audience)}
            for number, (channel, audience) in enumerate(plan.steps, start=1)
        ],
        "recipients": _recipients(rng, plan.recipients, "example.com"),
    }


def _seed_campaign(rng: random.Random) -> Document:
    """The campaign of the platform's API page: email, then a webhook."""
    return {
        "id": SEED_CAMPAIGN_ID,
        "name": "Summer launch (API page example)",
        "isActive": True,
        "steps": [
            {"stepNumber": 1, "channel": int(Channel.EMAIL), "audience": "all"},
            {"stepNumber": 2, "channel": int(Channel.WEBHOOK), "audience": "all"},
        ],
        "recipients": _recipients(rng, 842, "example.org"),
    }


def _seed_execution() -> Document:
    """The API page's GetDetails and GetAnalytics examples, figure for figure.

    The page's execution totals (610/598/12) are its second step's figures,
    not the sum of both steps; they are kept verbatim so the examples match.
    """
    return {
        "id": SEED_EXECUTION_ID,
        "campaignId": SEED_CAMPAIGN_ID,
        "status": int(ExecutionStatus.RUNNING),
        "scheduledFor": "2026-07-10T06:00:00Z",
        "startedAt": "2026-07-10T06:00:03Z",
        "completedAt": None,
        "totalRecipients": 842,
        "totalDispatched": 610,
        "totalSucceeded": 598,
        "totalFailed": 12,
        "correlationId": "campaign-exec-7f8e9d",
        "errorMessage": None,
        "steps": [
            _step_document(1, Channel.EMAIL, ExecutionStatus.SUCCEEDED, (842, 830, 12)),
            _step_document(2, Channel.WEBHOOK, ExecutionStatus.RUNNING, (610, 598, 12)),
        ],
    }


def _step_document(
    number: int, channel: Channel, status: ExecutionStatus, totals: tuple[int, int, int]
) -> Document:
    dispatched, succeeded, failed = totals
    return {
        "stepNumber": number,
        "channel": int(channel),
        "status": int(status),
        "totalDispatched": dispatched,
        "totalSucceeded": succeeded,
        "totalFailed": failed,
    }


def _pick_status(rng: random.Random, age: int) -> ExecutionStatus:
    """Old runs have ended; the five newest are pending.

    Two of those are already due, so the demo's worker starts on them at
    once; the other three come due over the next day.
    """
    if age < 5:
        return ExecutionStatus.PENDING
    return rng.choices(
        [
            ExecutionStatus.SUCCEEDED,
            ExecutionStatus.FAILED,
            ExecutionStatus.SKIPPED,
            ExecutionStatus.CANCELLED,
        ],
        weights=[86, 6, 3, 5],
    )[0]


def _execution(
    rng: random.Random,
    plan: CampaignPlan,
    campaign_id: str,
    *,
    now: datetime,
    index: int,
) -> Document:
    # Runs every ~8 hours, newest first by index; the first three lie ahead.
    age = index
    scheduled = now - timedelta(hours=8 * (age - 3), minutes=rng.randint(0, 59))
    scheduled = scheduled.replace(second=0, microsecond=0)
    status = _pick_status(rng, age)
    recipients = plan.recipients - rng.randint(0, plan.recipients // 20)
    document: Document = {
        "id": _uuid(rng),
        "campaignId": campaign_id,
        "status": int(status),
        "scheduledFor": format_utc(scheduled),
        "startedAt": None,
        "completedAt": None,
        "totalRecipients": recipients,
        "correlationId": f"run-{campaign_id[:6]}-{index:05d}",
        "errorMessage": None,
        "steps": [],
    }
    if status in (ExecutionStatus.PENDING, ExecutionStatus.SKIPPED):
        document["totalRecipients"] = (
            0 if status == ExecutionStatus.SKIPPED else recipients
        )
        if status == ExecutionStatus.SKIPPED:
            document["completedAt"] = format_utc(scheduled + timedelta(seconds=2))
        return _with_totals(document)
    return _with_totals(_run(rng, plan, document, scheduled, status))


def _run(
    rng: random.Random,
    plan: CampaignPlan,
    document: Document,
    scheduled: datetime,
    status: ExecutionStatus,
) -> Document:
    """Fill in the steps an ended run reached, with counters that add up."""
    started = scheduled + timedelta(seconds=rng.randint(1, 9))
    document["startedAt"] = format_utc(started)
    steps_reached = len(plan.steps)
    if status in (ExecutionStatus.FAILED, ExecutionStatus.CANCELLED):
        steps_reached = rng.randint(1, len(plan.steps))
    audience = document["totalRecipients"]
    previous: tuple[int, int] = (audience, 0)
    clock = started
    for number in range(1, steps_reached + 1):
        channel, rule = plan.steps[number - 1]
        size = _audience_size(rule, audience, previous)
        last = number == steps_reached
        partial = last and status != ExecutionStatus.SUCCEEDED
        dispatched = rng.randint(0, size) if partial else size
        failed = _failures(rng, dispatched, plan.success_rate)
        step_status = status if last else ExecutionStatus.SUCCEEDED
        step = _step_document(
            number, channel, step_status, (dispatched, dispatched - failed, failed)
        )
        step["startedAt"] = format_utc(clock)
        clock += timedelta(seconds=max(1, dispatched // 20))
        step["completedAt"] = format_utc(clock)
        document["steps"].append(step)
        previous = (dispatched - failed, failed)
    document["completedAt"] = format_utc(clock + timedelta(seconds=1))
    if status == ExecutionStatus.FAILED:
        document["errorMessage"] = rng.choice(FAILURE_REASONS)
    return document


def _audience_size(rule: Audience, everyone: int, previous: tuple[int, int]) -> int:
    succeeded, failed = previous
    if rule == Audience.SUCCEEDED_PREVIOUS:
        return succeeded
    if rule == Audience.FAILED_PREVIOUS:
        return failed
    return everyone


def _failures(rng: random.Random, dispatched: int, success_rate: float) -> int:
    """A plausible number of failures: binomial, drawn by its normal approximation."""
    mean = dispatched * (1 - success_rate)
    spread = (mean * success_rate) ** 0.5
    return min(dispatched, max(0, round(rng.gauss(mean, spread))))


def _with_totals(document: Document) -> Document:
    """Execution totals are the sums of its step executions."""
    for total in ("totalDispatched", "totalSucceeded", "totalFailed"):
        document[total] = sum(step[total] for step in document["steps"])
    return document


def demo_now() -> datetime:
    """The demo's reference time: now, to the minute."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


async def keep_scheduling_runs(
    database: Database, stop: asyncio.Event, *, every: float, seed: int = 11
) -> None:
    """Until `stop` is set, schedule a run of a random demo campaign every `every` s.

    The API page's example campaign is left alone, so its figures stay exact.
    """
    rng = random.Random(seed)
    async with database.read() as session:
        campaigns = [
            campaign_id
            for campaign_id, _ in await list_campaign_names(session, limit=100)
            if str(campaign_id) != SEED_CAMPAIGN_ID
        ]
    while campaigns and not stop.is_set():
        campaign_id = rng.choice(campaigns)
        async with database.write() as session:
            execution = await schedule_execution(
                session, campaign_id=campaign_id, scheduled_for=datetime.now(UTC)
            )
        logger.info("demo_run_scheduled", extra={"execution_id": str(execution.id)})
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            continue
