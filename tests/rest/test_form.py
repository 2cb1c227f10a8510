import pytest

from campaign_executions.errors import InvalidInputError
from campaign_executions.rest.form import parse_bracketed


async def test_parse_bracketed_nests_indexes_into_lists() -> None:
    pairs = [
        ("draw", "1"),
        ("columns[1][data]", "status"),
        ("columns[0][data]", "id"),
        ("columns[0][search][value]", ""),
        ("columns[0][search][regex]", "false"),
        ("order[0][column]", "0"),
        ("search[value]", "x"),
        ("additionalValues[]", "a"),
        ("additionalValues[]", "b"),
        ("columns[0][search][fixed][0][term]", "t"),
    ]

    parsed = parse_bracketed(pairs)

    assert parsed == {
        "draw": "1",
        "columns": [
            {
                "data": "id",
                "search": {"value": "", "regex": "false", "fixed": [{"term": "t"}]},
            },
            {"data": "status"},
        ],
        "order": [{"column": "0"}],
        "search": {"value": "x"},
        "additionalValues": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("columns[0][data]", "id"), ("columns[2][data]", "x")], "without gaps"),
        ([("columns[0]", "a"), ("columns[0][data]", "id")], "both as a value"),
        ([("columns[0][data]", "id"), ("columns[0]", "a")], "both as a value"),
        ([("a[b][c][d][e][f][g][h]", "1")], "deeper than"),
        ([("columns[0", "1")], "bracket notation"),
        ([("[0]", "1")], "bracket notation"),
    ],
)
async def test_parse_bracketed_refuses_ambiguous_names(
    pairs: list[tuple[str, str]], expected: str
) -> None:
    with pytest.raises(InvalidInputError, match=expected):
        parse_bracketed(pairs)
