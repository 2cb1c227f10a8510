"""Log output: the one place that decides how records are written."""

import logging
import sys
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | {"message", "asctime", "taskName", "color_message"}


class TextFormatter(logging.Formatter):
    """One line per event: time, level, logger, event name, then key=value fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRS
        )
        return f"{line} {fields}" if fields else line


def configure_logging(
    *, log_format: Literal["text", "json"], level: str = "INFO"
) -> None:
    """Send every log record to stderr as text or JSON."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"message": "event", "levelname": "level"},
            )
        )
    else:
        handler.setFormatter(
            TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
