"""The import file: its JSON format, its validation, and loading it whole."""

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .domain import Audience, Channel, ExecutionStatus
from .errors import ImportFileError
from .storage.engine import Database
from .storage.models import (
    CampaignModel,
    CampaignStepModel,
    ExecutionModel,
    RecipientModel,
    StepExecutionModel,
)
from .storage.records import add_records, find_existing_ids

INT32_MAX = 2**31 - 1
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _in_utc(moment: datetime) -> datetime:
    """The moment in UTC, refused outside 1970-9998 (and past the calendar's end)."""
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the calendar") from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError("the time must lie between 1970 and 9998")
    return moment


def _without_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("text cannot contain NUL characters")
    return text


# Counters and step numbers are stored as 32-bit integers, as in the platform.
Count = Annotated[int, Field(ge=0, le=INT32_MAX, strict=True)]
StepNumber = Annotated[int, Field(ge=1, le=10_000, strict=True)]
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]
Text = Annotated[str, AfterValidator(_without_nul)]


class _Record(BaseModel):
    # Fields are read by their camelCase wire names, and errors name them so.
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel)


class StepRecord(_Record):
    """A campaign step as the file gives it."""

    step_number: StepNumber
    channel: Channel
    audience: Audience = Audience.ALL


class RecipientRecord(_Record):
    """A campaign recipient as the file gives it."""

    id: uuid.UUID
    address: Annotated[Text, Field(min_length=1, max_length=320)]


class CampaignRecord(_Record):
    """A campaign with its steps and recipients."""

    id: uuid.UUID
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    is_active: bool = True
    steps: list[StepRecord] = []
    recipients: list[RecipientRecord] = []

    @model_validator(mode="after")
    def _unique_step_numbers(self) -> Self:
        _require_unique_steps(self.steps)
        return self


class StepExecutionRecord(_Record):
    """One step of an execution with its totals."""

    step_number: StepNumber
    channel: Channel
    status: ExecutionStatus
    started_at: Moment | None = None
    completed_at: Moment | None = None
    total_dispatched: Count = 0
    total_succeeded: Count = 0
    total_failed: Count = 0

    @model_validator(mode="after")
    def _totals_add_up(self) -> Self:
        _require_outcomes_within(
            self.total_succeeded, self.total_failed, self.total_dispatched
        )
        return self


class ExecutionRecord(_Record):
    """An execution with the fields of the REST DTO and its step executions."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    status: ExecutionStatus
    scheduled_for: Moment
    started_at: Moment | None = None
    completed_at: Moment | None = None
    total_recipients: Count = 0
    total_dispatched: Count = 0
    total_succeeded: Count = 0
    total_failed: Count = 0
    correlation_id: Annotated[Text, Field(max_length=200)] | None = None
    error_message: Annotated[Text, Field(max_length=4000)] | None = None
    steps: list[StepExecutionRecord] = []

    @model_validator(mode="after")
    def _totals_add_up(self) -> Self:
        _require_outcomes_within(
            self.total_succeeded, self.total_failed, self.total_dispatched
        )
        _require_unique_steps(self.steps)
        for step in self.steps:
            if step.total_dispatched > self.total_recipients:
                raise ValueError(
                    f"step {step.step_number} dispatched {step.total_dispatched}, "
                    f"more than totalRecipients ({self.total_recipients})"
                )
        return self


class ImportFile(_Record):
    """The whole file: campaigns and executions, both optional."""

    campaigns: list[CampaignRecord] = []
    executions: list[ExecutionRecord] = []


def _require_outcomes_within(succeeded: int, failed: int, dispatched: int) -> None:
    if succeeded + failed > dispatched:
        raise ValueError(
            f"totalSucceeded + totalFailed ({succeeded + failed}) "
            f"exceeds totalDispatched ({dispatched})"
        )


def _require_unique_steps(steps: Sequence[StepRecord | StepExecutionRecord]) -> None:
    numbers = [step.step_number for step in steps]
    if len(numbers) != len(set(numbers)):
        raise ValueError("stepNumber values must be unique within one record")


def parse_import(document: Any) -> ImportFile:  # noqa: ANN401
    """Validate a decoded JSON document; errors name the record and the field."""
    try:
        data = ImportFile.model_validate(document)
    except ValidationError as error:
        raise ImportFileError(_describe(error, document)) from None
    _require_unique_ids(data)
    return data


def _describe(error: ValidationError, document: Any) -> str:  # noqa: ANN401
    first = error.errors()[0]
    location = list(first["loc"])
    record = _record_label(location, document)
    field = ".".join(str(part) for part in location[2:]) or "(the record itself)"
    reason = first["msg"].removeprefix("Value error, ")
    more = len(error.errors()) - 1
    suffix = f" ({more} more error{'s' if more > 1 else ''})" if more else ""
    return f"{record}, field {field}: {reason}{suffix}"


def _record_label(location: list[int | str], document: Any) -> str:  # noqa: ANN401
    if len(location) < 2 or not isinstance(location[1], int):
        return "the file" if not location else f"top-level key {location[0]!r}"
    section, index = location[0], location[1]
    try:
        record_id = document[section][index].get("id")
    except (AttributeError, IndexError, KeyError, TypeError):
        record_id = None
    label = f"{section}[{index}]"
    return f"{label} (id {record_id})" if record_id is not None else label


IdModel = type[CampaignModel] | type[ExecutionModel] | type[RecipientModel]


def _id_sections(
    data: ImportFile,
) -> list[tuple[str, IdModel, list[tuple[str, uuid.UUID]]]]:
    """Each kind of record that carries an id, with a label for every record."""
    recipients = [
        (f"campaigns[{c}].recipients[{r}]", recipient.id)
        for c, campaign in enumerate(data.campaigns)
        for r, recipient in enumerate(campaign.recipients)
    ]
    return [
        (
            "campaign",
            CampaignModel,
            [(f"campaigns[{i}]", c.id) for i, c in enumerate(data.campaigns)],
        ),
        ("recipient", RecipientModel, recipients),
        (
            "execution",
            ExecutionModel,
            [(f"executions[{i}]", e.id) for i, e in enumerate(data.executions)],
        ),
    ]


def _require_unique_ids(data: ImportFile) -> None:
    for _, _, labelled_ids in _id_sections(data):
        seen: set[uuid.UUID] = set()
        for label, record_id in labelled_ids:
            if record_id in seen:
                raise ImportFileError(
                    f"{label} (id {record_id}), field id: "
                    "the same id appears earlier in the file"
                )
            seen.add(record_id)


def read_import_file(path: Path) -> ImportFile:
    """Read and validate an import file from disk."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ImportFileError(f"Cannot read {path}: {error.strerror}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFileError(f"{path} is not valid UTF-8 JSON: {error}.") from None
    except RecursionError:
        raise ImportFileError(
            f"{path} nests JSON too deeply to be an import file."
        ) from None
    return parse_import(document)


async def load_import(database: Database, data: ImportFile) -> None:
    """Store everything in `data` in one transaction, or nothing at all."""
    async with database.write() as session:
        for section, model, labelled_ids in _id_sections(data):
            ids = [record_id for _, record_id in labelled_ids]
            taken = await find_existing_ids(session, model=model, ids=ids)
            if taken:
                label, record_id = next(p for p in labelled_ids if p[1] in taken)
                raise ImportFileError(
                    f"{label} (id {record_id}), field id: a stored {section} has "
                    "this id already; nothing was imported"
                )
        await add_records(session, records=[_campaign_model(c) for c in data.campaigns])
        await add_records(
            session,
            records=[r for c in data.campaigns for r in _recipient_models(c)],
        )
        await add_records(
            session, records=[_execution_model(e) for e in data.executions]
        )


def _campaign_model(record: CampaignRecord) -> CampaignModel:
    campaign = CampaignModel(id=record.id, name=record.name, is_active=record.is_active)
    campaign.steps = [
        CampaignStepModel(
            step_number=step.step_number,
            channel=int(step.channel),
            audience=str(step.audience),
        )
        for step in record.steps
    ]
    return campaign


def _recipient_models(record: CampaignRecord) -> list[RecipientModel]:
    return [
        RecipientModel(id=r.id, campaign_id=record.id, address=r.address)
        for r in record.recipients
    ]


def _execution_model(record: ExecutionRecord) -> ExecutionModel:
    execution = ExecutionModel(
        id=record.id,
        campaign_id=record.campaign_id,
        status=int(record.status),
        scheduled_for=record.scheduled_for,
        started_at=record.started_at,
        completed_at=record.completed_at,
        total_recipients=record.total_recipients,
        total_dispatched=record.total_dispatched,
        total_succeeded=record.total_succeeded,
        total_failed=record.total_failed,
        correlation_id=record.correlation_id,
        error_message=record.error_message,
    )
    execution.steps = [_step_execution_model(step) for step in record.steps]
    return execution


def _step_execution_model(record: StepExecutionRecord) -> StepExecutionModel:
    return StepExecutionModel(
        step_number=record.step_number,
        channel=int(record.channel),
        status=int(record.status),
        started_at=record.started_at,
        completed_at=record.completed_at,
        total_dispatched=record.total_dispatched,
        total_succeeded=record.total_succeeded,
        total_failed=record.total_failed,
    )
