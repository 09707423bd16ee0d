"""Keep the customer's secrets out of the logs.

The links we email hold the secret in the path (`/autorizacion/<token>`,
`/sesion-remota/<code>`), and uvicorn's access log prints every path: whoever reads the
logs could authorize remote access to a customer's computer. The filter rewrites those
paths to `/autorizacion/[redacted]` before any handler formats the record.

It sits on the loggers themselves, not on handlers, so it holds whatever handlers a
deployment configures (`--log-config`, JSON formatters, ...). `install()` runs in
`api.main.create_app`, which uvicorn imports after configuring logging, so the same
code covers `make run` (worker/dev.py), the Docker image and the tests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from api.pages import CUSTOMER_PREFIXES

# uvicorn.error too: it reports on requests (protocol errors, app exceptions); none names
# the path today, and the filter costs nothing there.
LOGGERS = ("uvicorn.access", "uvicorn.error")
REDACTED = "[redacted]"

# Everything after the prefix (later segments and the query string too) up to the end
# of the path; case-insensitive because a log is no place to argue about routing.
_SECRET_PATH = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in CUSTOMER_PREFIXES) + r')[^\s"\']*',
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Hide what follows a customer prefix: with it, a log reader could decide for the customer."""
    return _SECRET_PATH.sub(lambda m: m.group(1) + REDACTED, text)


def _redact_arg(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactCustomerSecrets(logging.Filter):
    """Rewrites secret-bearing paths in a record's message and arguments; drops nothing.

    uvicorn's access record is `'%s - "%s %s HTTP/%s" %d'` with the path as one of its
    arguments; every string argument is rewritten, so its position does not matter."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place and keep the record: losing the line would hide the request."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        return True


def install(names: tuple[str, ...] = LOGGERS) -> None:
    """Add the filter to each logger once (create_app may run more than once)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCustomerSecrets) for f in logger.filters):
            logger.addFilter(RedactCustomerSecrets())
