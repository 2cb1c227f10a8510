import copy
import uuid
from pathlib import Path
from typing import Any

import pytest

from campaign_executions.demo import build_demo_document
from campaign_executions.errors import ImportFileError
from campaign_executions.importing import load_import, parse_import, read_import_file
from campaign_executions.storage.engine import Database
from campaign_executions.storage.execution import ExecutionQuery, count_executions
from campaign_executions.storage.records import count_campaigns
from tests.factories import BASE_TIME, SEED_DETAILS


def _document(executions: int = 3) -> dict[str, Any]:
    campaign_id = str(uuid.uuid4())
    return {
        "campaigns": [
            {
                "id": campaign_id,
                "name": "Welcome",
                "steps": [{"stepNumber": 1, "channel": 1, "audience": "all"}],
                "recipients": [{"id": str(uuid.uuid4()), "address": "a@example.com"}],
            }
        ],
        "executions": [
            {
                "id": str(uuid.uuid4()),
                "campaignId": campaign_id,
                "status": 2,
                "scheduledFor": "2026-07-10T06:00:00Z",
                "totalRecipients": 10,
                "totalDispatched": 10,
                "totalSucceeded": 9,
                "totalFailed": 1,
                "steps": [
                    {
                        "stepNumber": 1,
                        "channel": 1,
                        "status": 2,
                        "totalDispatched": 10,
                        "totalSucceeded": 9,
                        "totalFailed": 1,
                    }
                ],
            }
            for _ in range(executions)
        ],
    }


async def _counts(database: Database, campaign_id: str) -> tuple[int, int]:
    async with database.read() as session:
        campaigns = await count_campaigns(session)
        query = ExecutionQuery(uuid.UUID(campaign_id))
        return campaigns, await count_executions(session, query=query)


async def test_import_loads_campaigns_and_executions(database: Database):
    document = _document()

    await load_import(database, parse_import(document))

    assert await _counts(database, document["campaigns"][0]["id"]) == (1, 3)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("executions", 2, "totalSucceeded"), 11, r"executions\[2\] \(id .+\), field"),
        (("executions", 1, "status"), 9, r"executions\[1\] .*field status"),
        (("executions", 0, "scheduledFor"), "2026-07-10T06:00:00", r"scheduledFor"),
        (("executions", 2, "steps", 0, "channel"), 42, r"field steps\.0\.channel"),
        (("campaigns", 0, "steps", 0, "audience"), "some", r"campaigns\[0\].*audience"),
        (("executions", 1, "surprise"), 1, r"executions\[1\].*surprise"),
    ],
)
async def test_import_with_one_bad_record_loads_nothing_and_names_it(
    database: Database, path: tuple[Any, ...], value: object, expected: str
):
    document = _document()
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    with pytest.raises(ImportFileError, match=expected):
        await load_import(database, parse_import(document))

    assert await _counts(database, document["campaigns"][0]["id"]) == (0, 0)


async def test_import_of_an_id_already_stored_loads_nothing(database: Database):
    first = _document(executions=1)
    await load_import(database, parse_import(first))
    second = _document(executions=2)
    second["executions"][1]["id"] = first["executions"][0]["id"]

    with pytest.raises(
        ImportFileError, match=r"executions\[1\].*a stored execution has this id"
    ):
        await load_import(database, parse_import(second))

    assert await _counts(database, second["campaigns"][0]["id"]) == (1, 0)


def test_duplicate_ids_within_a_file_are_refused():
    document = _document(executions=2)
    document["executions"][1]["id"] = document["executions"][0]["id"]

    with pytest.raises(ImportFileError, match=r"executions\[1\].*earlier in the file"):
        parse_import(document)


def test_read_import_file_reports_bad_json(tmp_path: Path):
    path = tmp_path / "broken.json"
    path.write_text('{"executions": [', encoding="utf-8")

    with pytest.raises(ImportFileError, match="not valid UTF-8 JSON"):
        read_import_file(path)


def test_seed_details_object_is_a_valid_import_record():
    record = parse_import({"executions": [copy.deepcopy(SEED_DETAILS)]})

    assert record.executions[0].total_dispatched == 610
    assert record.executions[0].correlation_id == "campaign-exec-7f8e9d"


def test_demo_document_counters_add_up_and_cover_every_status():
    document = build_demo_document(now=BASE_TIME, runs_per_campaign=200)
    executions = document["executions"]

    assert {e["status"] for e in executions} == set(range(6))
    assert len({e["campaignId"] for e in executions}) >= 5
    parse_import(document)
    for execution in executions:
        for step in execution["steps"]:
            assert (
                step["totalSucceeded"] + step["totalFailed"] <= step["totalDispatched"]
            )
            assert step["totalDispatched"] <= execution["totalRecipients"]


def test_demo_document_is_the_same_for_the_same_seed():
    assert build_demo_document(now=BASE_TIME, runs_per_campaign=5) == (
        build_demo_document(now=BASE_TIME, runs_per_campaign=5)
    )


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("executions", 0, "totalDispatched"), 2**40, r"totalDispatched"),
        (("executions", 0, "steps", 0, "stepNumber"), 2**70, r"stepNumber"),
        (("executions", 0, "errorMessage"), "bad\x00byte", r"NUL"),
        (("executions", 0, "scheduledFor"), "0001-01-01T00:00:00+05:00", r"calendar"),
        (("executions", 0, "scheduledFor"), "9999-12-31T23:00:00-05:00", r"calendar"),
        (("executions", 0, "startedAt"), "1900-01-01T00:00:00Z", r"1970"),
    ],
)
def test_values_the_databases_cannot_hold_are_refused_by_name(
    path: tuple[Any, ...], value: object, expected: str
):
    document = _document(executions=1)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    with pytest.raises(ImportFileError, match=expected):
        parse_import(document)


def test_deeply_nested_json_is_a_clean_error(tmp_path: Path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")

    with pytest.raises(ImportFileError, match="nests JSON too deeply"):
        read_import_file(path)
