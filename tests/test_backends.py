"""The suite's own promise: PostgreSQL tests skip outside CI and fail inside it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:9/postgres"


def _run_one_postgres_test(*, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "CI" and not key.startswith("PYTEST")
    }
    env["CAMPAIGN_EXECUTIONS_TEST_POSTGRES_URL"] = UNREACHABLE
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/storage/test_execution.py::test_count_is_scoped_to_the_campaign",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("ci", "exit_code", "summary"),
    [(False, 0, "1 passed, 1 skipped"), (True, 1, "1 passed, 1 error")],
)
def test_postgres_tests_skip_outside_ci_and_fail_inside(ci, exit_code, summary):
    result = _run_one_postgres_test(ci=ci)

    assert result.returncode == exit_code, result.stdout[-2000:]
    assert summary in result.stdout
