import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign_executions.domain import parse_guid

SEED = uuid.UUID("4a5b6c70-0000-0000-0000-000000000001")


@pytest.mark.parametrize(
    "text",
    [
        "4a5b6c70-0000-0000-0000-000000000001",
        "4A5B6C70-0000-0000-0000-000000000001",
        "{4a5b6c70-0000-0000-0000-000000000001}",
        "4a5b6c70000000000000000000000001",
        "{4a5b6c70000000000000000000000001}",
    ],
)
def test_parse_guid_accepts_the_standard_forms(text: str) -> None:
    assert parse_guid(text) == SEED


@pytest.mark.parametrize(
    "text",
    [
        "",
        "4a5b6c70-0000-0000-0000-00000000001",  # 31 digits
        "4a5b6c70-0000-0000-0000-0000000000001",  # 33 digits
        "4a5b6c70-0000-0000-0000-00000000000g",
        "4a5b6c7000-00-0000-0000-000000000001",  # dashes out of place
        "4a5b6c70-00000000-0000-000000000001",  # a dash missing
        "4a5b6c70-0000-0000-0000000000000001",
        "\uff14a5b6c70-0000-0000-0000-000000000001",  # fullwidth digit 4
        "4a5b6c70-0000-0000-0000-00000000000\u0661",  # Arabic-Indic digit 1
        "urn:uuid:4a5b6c70-0000-0000-0000-000000000001",
        "{4a5b6c70-0000-0000-0000-000000000001",
        "4a5b6c70-0000-0000-0000-000000000001}",
        "{{4a5b6c70-0000-0000-0000-000000000001}}",
        "(4a5b6c70-0000-0000-0000-000000000001)",
        " 4a5b6c70-0000-0000-0000-000000000001",
        "4a5b6c70-0000-0000-0000-000000000001\n",
        "0x4a5b6c70000000000000000000000001",
    ],
)
def test_parse_guid_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="not a UUID"):
        parse_guid(text)


@given(st.uuids())
def test_parse_guid_reads_back_every_standard_rendering(value: uuid.UUID) -> None:
    renderings = [str(value), value.hex, str(value).upper(), f"{{{value}}}"]

    assert {parse_guid(text) for text in renderings} == {value}
