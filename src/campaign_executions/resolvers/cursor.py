"""Opaque keyset cursors: base64url of JSON naming the order, the value and the id.

A cursor is only valid under the ordering it was made for, and only with a value
the database can compare (a 32-bit counter, a moment within years 1 to 9999 in
UTC); anything else a client sends is refused with a message, never with a
decoding error's text.
"""

import base64
import binascii
import json
import uuid
from datetime import datetime

from campaign_executions.domain import ExecutionField, format_utc
from campaign_executions.errors import InvalidInputError
from campaign_executions.schema.scalars import to_utc
from campaign_executions.storage.execution import Keyset, KeysetValue, OrderTerm
from campaign_executions.storage.filters import TIME_FIELDS

MAX_COUNTER = 2**31 - 1

_MALFORMED = (
    "The cursor in 'after' is not one this API issued; pass a cursor or "
    "endCursor from a previous page, or leave 'after' out to start at the top."
)


def encode_cursor(order: OrderTerm, key: Keyset) -> str:
    """The opaque cursor of `key` under `order`."""
    payload = {
        "field": order.field.value,
        "descending": order.descending,
        "value": _encode_value(key.value),
        "id": str(key.id),
    }
    text = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: OrderTerm) -> Keyset:
    """The keyset a cursor names; InvalidInputError if it is not valid for `order`."""
    payload = _payload_of(cursor)
    made_for = (payload.get("field"), payload.get("descending"))
    if made_for != (order.field.value, order.descending):
        raise InvalidInputError(
            "The cursor in 'after' was made under another orderBy; ask again "
            "with the orderBy of the page it came from, or leave 'after' out."
        )
    value = _decode_value(order.field, payload.get("value"))
    try:
        execution_id = uuid.UUID(str(payload.get("id")))
    except ValueError:
        raise InvalidInputError(_MALFORMED) from None
    return Keyset(value=value, id=execution_id)


def _payload_of(cursor: str) -> dict[str, object]:
    padded = cursor.strip() + "=" * (-len(cursor.strip()) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        payload = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInputError(_MALFORMED) from None
    if not isinstance(payload, dict):
        raise InvalidInputError(_MALFORMED)
    return payload


def _encode_value(value: KeysetValue) -> str | int:
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return int(value)


def _decode_value(field: ExecutionField, value: object) -> KeysetValue:
    if field in TIME_FIELDS:
        return _decode_moment(value)
    # Every orderable counter is a 32-bit column; a larger key is no key of ours.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(_MALFORMED)
    if not 0 <= value <= MAX_COUNTER:
        raise InvalidInputError(_MALFORMED)
    return value


def _decode_moment(value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is not None and moment.utcoffset() is not None:
            return to_utc(moment)
    except ValueError:
        pass
    raise InvalidInputError(_MALFORMED)
