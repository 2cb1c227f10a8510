"""Bracket-notation form fields, as jQuery sends the grid's request, made nested.

`columns[0][search][value]=x` becomes `{"columns": [{"search": {"value": "x"}}]}`:
a level whose keys are all indexes 0..n-1 becomes a list, and `name[]` appends.
"""

import re
from collections.abc import Iterable

from campaign_executions.errors import InvalidInputError

# DataTables 2 nests up to columns[0][search][fixed][0][term]: five levels.
MAX_DEPTH = 6

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"[0-9]{1,6}")

Node = dict[str, "Node | str"]


def parse_bracketed(pairs: Iterable[tuple[str, str]]) -> dict[str, object]:
    """Nested data from flat `(name, value)` pairs; the last of duplicates wins."""
    root: Node = {}
    for name, value in pairs:
        _place(root, _split(name), value)
    return {key: _listify(child) for key, child in root.items()}


def _split(name: str) -> list[str]:
    match = _KEY.fullmatch(name)
    if match is None:
        raise InvalidInputError(
            "A form field name is not in bracket notation such as "
            "columns[0][search][value]."
        )
    parts = [match.group(1), *_PART.findall(match.group(2))]
    if len(parts) > MAX_DEPTH + 1:
        raise InvalidInputError(
            f"A form field name nests deeper than {MAX_DEPTH} brackets."
        )
    return parts


def _place(root: Node, parts: list[str], value: str) -> None:
    node = root
    for part in parts[:-1]:
        child = node.setdefault(_slot(node, part), {})
        if not isinstance(child, dict):
            raise _conflict()
        node = child
    last = _slot(node, parts[-1])
    if isinstance(node.get(last), dict):
        raise _conflict()
    node[last] = value


def _slot(node: Node, part: str) -> str:
    # `name[]` appends: the next free index.
    return part if part else str(len(node))


def _conflict() -> InvalidInputError:
    return InvalidInputError(
        "The form sends one field both as a value and as a group of fields."
    )


def _listify(node: "Node | str") -> object:
    if isinstance(node, str):
        return node
    if not node or not all(_INDEX.fullmatch(key) for key in node):
        return {key: _listify(child) for key, child in node.items()}
    by_index = {int(key): child for key, child in node.items()}
    if sorted(by_index) != list(range(len(node))):
        raise InvalidInputError(
            "Indexed form fields must count up from 0 without gaps or repeats, "
            "as in columns[0], columns[1], ..."
        )
    return [_listify(by_index[index]) for index in range(len(node))]
