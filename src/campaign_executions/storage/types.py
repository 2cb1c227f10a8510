"""Column types that behave the same on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, Uuid
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, an aware UTC datetime out, on every backend.

    SQLite keeps no offset, so values are normalised to UTC before they are
    written and UTC is attached when they are read; a naive value is refused
    rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes cannot be stored; attach a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class GUID(TypeDecorator[uuid.UUID]):
    """A UUID column that always yields the standard library's uuid.UUID.

    asyncpg returns its own UUID subclass, which JSON encoders do not know.
    """

    impl = Uuid(as_uuid=True)
    cache_ok = True

    def process_result_value(
        self, value: uuid.UUID | None, dialect: Dialect
    ) -> uuid.UUID | None:
        if value is None or type(value) is uuid.UUID:
            return value
        return uuid.UUID(int=value.int)
