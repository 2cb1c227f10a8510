"""The worker loop: claim a due execution, run its steps, record every outcome."""

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from campaign_executions.domain import Audience, Channel, ExecutionStatus
from campaign_executions.errors import ExecutionStoppedError, LeaseLostError
from campaign_executions.storage import claim, ledger
from campaign_executions.storage import step as step_store
from campaign_executions.storage.engine import Database
from campaign_executions.storage.models import CampaignStepModel, ExecutionModel

from .sender import Message, Sender, SendResult

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Messages handed to a sender at once; a cancel lets at most this many more out.
SEND_CHUNK = 64


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker paces itself.

    Args:
        lease: how long a claim lasts without a heartbeat.
        heartbeat: how often the lease is renewed; well under `lease`.
        idle_poll: seconds to wait when no execution is due.
        batch_size: recipients recorded, sent and resolved together.
    """

    lease: timedelta = timedelta(seconds=30)
    heartbeat: timedelta = timedelta(seconds=10)
    idle_poll: float = 1.0
    batch_size: int = 2000


@dataclass
class Run:
    """One claimed execution, as far as this worker is concerned."""

    execution: ExecutionModel
    token: uuid.UUID
    stopped: asyncio.Event
    step_execution_id: uuid.UUID | None = None

    @property
    def execution_id(self) -> uuid.UUID:
        """The claimed execution's id."""
        return self.execution.id

    def check(self, shutdown: asyncio.Event) -> None:
        """Raise if a cancel or a lost lease was noticed, or the worker is stopping."""
        if self.stopped.is_set():
            raise ExecutionStoppedError("The execution was cancelled or taken over.")
        if shutdown.is_set():
            raise WorkerStoppingError


class WorkerStoppingError(Exception):
    """The worker was asked to stop; the run in hand is handed back."""


class Worker:
    """Claims due executions and runs them to an end state, one at a time per slot."""

    def __init__(
        self,
        database: Database,
        senders: dict[Channel, Sender],
        options: WorkerOptions | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.database = database
        self.senders = senders
        self.options = options or WorkerOptions()
        self.clock = clock
        self.active: dict[uuid.UUID, Run] = {}
        self.shutdown = asyncio.Event()

    async def run(self, stop: asyncio.Event, *, concurrency: int = 1) -> None:
        """Work until `stop` is set, running up to `concurrency` executions at once.

        Once `stop` is set, each run in hand finishes its current batch and is
        handed back (its lease released) for another worker to resume.
        """
        self.shutdown = stop
        await asyncio.gather(*(self._slot(stop) for _ in range(concurrency)))

    def notice_stop(self, execution_id: uuid.UUID) -> None:
        """Stop starting dispatches for an execution (a cancel was announced)."""
        run = self.active.get(execution_id)
        if run is not None:
            logger.info("cancel_noticed", extra={"execution_id": str(execution_id)})
            run.stopped.set()

    async def _slot(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # A slot must outlive any one failure, a lost database included.
            try:
                worked = await self.run_once()
            except Exception:
                logger.exception("worker_slot_failed")
                worked = False
            if not worked:
                await _wait(stop, self.options.idle_poll)

    async def run_once(self) -> bool:
        """Claim one due execution and run it; False when none was due."""
        run = await self._claim()
        if run is None:
            return False
        self.active[run.execution_id] = run
        heartbeat = asyncio.create_task(self._heartbeat(run))
        try:
            await self._execute(run)
        finally:
            heartbeat.cancel()
            self.active.pop(run.execution_id, None)
        return True

    async def _claim(self) -> Run | None:
        token = uuid.uuid4()
        async with self.database.write() as session:
            execution = await claim.claim_due_execution(
                session, token=token, now=self.clock(), lease=self.options.lease
            )
        if execution is None:
            return None
        logger.info(
            "execution_claimed",
            extra={"execution_id": str(execution.id), "token": str(token)},
        )
        return Run(execution=execution, token=token, stopped=asyncio.Event())

    async def _heartbeat(self, run: Run) -> None:
        interval = self.options.heartbeat.total_seconds()
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.database.write() as session:
                    await claim.renew_lease(
                        session,
                        execution_id=run.execution_id,
                        token=run.token,
                        now=self.clock(),
                        lease=self.options.lease,
                    )
            except (ExecutionStoppedError, LeaseLostError) as error:
                logger.info(
                    "execution_stop_noticed",
                    extra={"execution_id": str(run.execution_id), "reason": str(error)},
                )
                run.stopped.set()
                return

    async def _execute(self, run: Run) -> None:
        log = {"execution_id": str(run.execution_id)}
        try:
            status, reason = await self._run_steps(run)
            await self._finish(run, status, reason)
        except ExecutionStoppedError:
            logger.info("execution_stopped", extra=log)
            await self._close_cancelled_step(run)
        except WorkerStoppingError:
            await self._release(run)
        except LeaseLostError:
            logger.warning("lease_lost", extra=log)
        except Exception as error:  # any other fault fails the run, once
            logger.exception("execution_faulted", extra=log)
            await self._fail(run, error)

    async def _run_steps(self, run: Run) -> tuple[ExecutionStatus, str | None]:
        """Run every step in order; the end status, and why when it is Skipped."""
        campaign_id = run.execution.campaign_id
        async with self.database.read() as session:
            campaign = await claim.load_campaign(session, campaign_id=campaign_id)
            recipients = await claim.count_recipients(session, campaign_id=campaign_id)
        if campaign is None:
            return ExecutionStatus.SKIPPED, "The campaign is not stored here."
        if not campaign.is_active:
            return ExecutionStatus.SKIPPED, "The campaign is inactive."
        if recipients == 0 or not campaign.steps:
            return ExecutionStatus.SKIPPED, "The campaign has no recipients or steps."
        async with self.database.write() as session:
            await claim.set_total_recipients(
                session,
                execution_id=run.execution_id,
                token=run.token,
                total=recipients,
            )
        previous: uuid.UUID | None = None
        for step in campaign.steps:
            previous = await self._run_step(run, step, previous)
        return ExecutionStatus.SUCCEEDED, None

    async def _run_step(
        self, run: Run, step: CampaignStepModel, previous: uuid.UUID | None
    ) -> uuid.UUID:
        """Send one step to its audience, batch by batch; its step execution id."""
        async with self.database.write() as session:
            step_execution = await step_store.start_step(
                session,
                execution_id=run.execution_id,
                token=run.token,
                step_number=step.step_number,
                channel=step.channel,
                now=self.clock(),
            )
        run.step_execution_id = step_execution.id
        logger.info(
            "step_started",
            extra={"execution_id": str(run.execution_id), "step": step.step_number},
        )
        after: uuid.UUID | None = None
        while True:
            run.check(self.shutdown)
            async with self.database.read() as session:
                batch = await step_store.audience(
                    session,
                    campaign_id=run.execution.campaign_id,
                    rule=Audience(step.audience),
                    previous_step_execution_id=previous,
                    after=after,
                    limit=self.options.batch_size,
                )
            if not batch:
                break
            after = batch[-1][0]
            await self._dispatch(run, step, step_execution.id, batch)
        await self._finish_step(run, step, step_execution.id)
        return step_execution.id

    async def _dispatch(
        self,
        run: Run,
        step: CampaignStepModel,
        step_execution_id: uuid.UUID,
        batch: Sequence[tuple[uuid.UUID, str]],
    ) -> None:
        """Record a batch, send it, and resolve what came back."""
        async with self.database.write() as session:
            tickets = await ledger.record_dispatches(
                session,
                execution_id=run.execution_id,
                token=run.token,
                step_execution_id=step_execution_id,
                recipients=batch,
                now=self.clock(),
            )
        if not tickets:
            return
        sent = await self._send(run, step, tickets)
        outcomes = [
            ledger.DispatchResult(ticket.dispatch_id, result.succeeded, result.error)
            for ticket, result in sent
        ]
        unsent = [ticket.dispatch_id for ticket in tickets[len(sent) :]]
        async with self.database.write() as session:
            resolved = await ledger.resolve_dispatches(
                session,
                execution_id=run.execution_id,
                token=run.token,
                step_execution_id=step_execution_id,
                results=outcomes,
                now=self.clock(),
            )
            if unsent:
                await ledger.withdraw_dispatches(
                    session,
                    execution_id=run.execution_id,
                    token=run.token,
                    step_execution_id=step_execution_id,
                    dispatch_ids=unsent,
                    now=self.clock(),
                )
        logger.debug(
            "batch_resolved",
            extra={"execution_id": str(run.execution_id), "resolved": resolved},
        )

    async def _send(
        self,
        run: Run,
        step: CampaignStepModel,
        tickets: Sequence[ledger.DispatchTicket],
    ) -> list[tuple[ledger.DispatchTicket, SendResult]]:
        """Hand tickets to the channel a chunk at a time; stop between chunks.

        A cancel or shutdown noticed mid-batch stops the sending, so at most one
        chunk goes out after it; what was sent is returned, in order.
        """
        channel = Channel(step.channel)
        sent: list[tuple[ledger.DispatchTicket, SendResult]] = []
        for start in range(0, len(tickets), SEND_CHUNK):
            if run.stopped.is_set() or self.shutdown.is_set():
                break
            chunk = tickets[start : start + SEND_CHUNK]
            messages = [_message(run, step, channel, ticket) for ticket in chunk]
            results = await self.senders[channel].send_batch(messages)
            sent += zip(chunk, results, strict=True)
        return sent

    async def _finish_step(
        self, run: Run, step: CampaignStepModel, step_execution_id: uuid.UUID
    ) -> None:
        async with self.database.write() as session:
            await step_store.finish_step(
                session,
                execution_id=run.execution_id,
                token=run.token,
                step_execution_id=step_execution_id,
                status=ExecutionStatus.SUCCEEDED,
                now=self.clock(),
            )
        logger.info(
            "step_finished",
            extra={"execution_id": str(run.execution_id), "step": step.step_number},
        )

    async def _finish(
        self, run: Run, status: ExecutionStatus, reason: str | None
    ) -> None:
        async with self.database.write() as session:
            await claim.finish_execution(
                session,
                execution_id=run.execution_id,
                token=run.token,
                status=status,
                now=self.clock(),
                error_message=reason,
            )
        logger.info(
            "execution_finished",
            extra={"execution_id": str(run.execution_id), "status": status.name},
        )

    async def _close_cancelled_step(self, run: Run) -> None:
        """End the step a cancel interrupted, so no part of the run stays open."""
        if run.step_execution_id is None:
            return
        try:
            async with self.database.write() as session:
                await step_store.finish_step(
                    session,
                    execution_id=run.execution_id,
                    token=run.token,
                    step_execution_id=run.step_execution_id,
                    status=ExecutionStatus.CANCELLED,
                    now=self.clock(),
                )
        except LeaseLostError:
            return

    async def _release(self, run: Run) -> None:
        """Hand a run back on shutdown so that another worker resumes it at once."""
        try:
            async with self.database.write() as session:
                await claim.release_execution(
                    session,
                    execution_id=run.execution_id,
                    token=run.token,
                    now=self.clock(),
                )
        except (ExecutionStoppedError, LeaseLostError):
            return
        logger.info("execution_released", extra={"execution_id": str(run.execution_id)})

    async def _fail(self, run: Run, error: Exception) -> None:
        """Mark the run Failed with a reason a person can act on, if still ours."""
        reason = f"The run stopped on an internal fault ({type(error).__name__})."
        try:
            await self._finish(run, ExecutionStatus.FAILED, reason)
        except (ExecutionStoppedError, LeaseLostError):
            logger.info(
                "failure_not_recorded", extra={"execution_id": str(run.execution_id)}
            )


def _message(
    run: Run, step: CampaignStepModel, channel: Channel, ticket: ledger.DispatchTicket
) -> Message:
    return Message(
        idempotency_key=f"{run.execution_id}:{step.step_number}:{ticket.recipient_id}",
        execution_id=run.execution_id,
        step_number=step.step_number,
        channel=channel,
        recipient_id=ticket.recipient_id,
        address=ticket.address,
    )


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep up to `seconds`, waking early when `stop` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
