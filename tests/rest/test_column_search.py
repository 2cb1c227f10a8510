from datetime import UTC, datetime

import pytest

from campaign_executions.domain import ExecutionField, ExecutionStatus
from campaign_executions.errors import InvalidInputError
from campaign_executions.rest.column_search import column_condition
from campaign_executions.storage.filters import CountEquals, StatusIn, TimeRange

SCHEDULED = ExecutionField.SCHEDULED_FOR


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (
            "2026-12",
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
        (
            "2028-02-29",
            datetime(2028, 2, 29, tzinfo=UTC),
            datetime(2028, 3, 1, tzinfo=UTC),
        ),
        ("9999-12-31", datetime(9999, 12, 31, tzinfo=UTC), None),
    ],
)
async def test_column_condition_reads_a_date_prefix_as_its_period(
    text: str, start: datetime, end: datetime | None
) -> None:
    assert column_condition(SCHEDULED, text, column="3") == TimeRange(
        SCHEDULED, start, end
    )


@pytest.mark.parametrize(
    "text", ["2026-02-30", "0000", "26", "2026/07", "\uff12\uff10\uff12\uff16"]
)
async def test_column_condition_refuses_what_is_not_a_date_prefix(text: str) -> None:
    with pytest.raises(InvalidInputError, match="Column 3"):
        column_condition(SCHEDULED, text, column="3")


async def test_column_condition_reads_status_codes_and_names() -> None:
    condition = column_condition(ExecutionField.STATUS, "0, cancel,2", column="2")

    assert condition == StatusIn(
        frozenset(
            {
                ExecutionStatus.PENDING,
                ExecutionStatus.CANCELLED,
                ExecutionStatus.SUCCEEDED,
            }
        )
    )


@pytest.mark.parametrize("text", ["6", "-1", ",", "unknown"])
async def test_column_condition_refuses_unknown_statuses(text: str) -> None:
    with pytest.raises(InvalidInputError, match="status codes"):
        column_condition(ExecutionField.STATUS, text, column="2")


@pytest.mark.parametrize("text", ["-3", "1.5", "2147483648", "\u0663"])
async def test_column_condition_refuses_counts_that_do_not_fit(text: str) -> None:
    with pytest.raises(InvalidInputError, match="whole number"):
        column_condition(ExecutionField.TOTAL_FAILED, text, column="9")


async def test_column_condition_reads_an_exact_count() -> None:
    condition = column_condition(ExecutionField.TOTAL_FAILED, " 12 ", column="9")

    assert condition == CountEquals(ExecutionField.TOTAL_FAILED, 12)
