"""Keep secrets out of every log record, whoever writes it.

azure-core logs request URLs (which carry the subscription id), MSAL logs tenant and client
ids, urllib3 logs request paths. Masking each logger would miss the next library, so a log
record factory masks the known secret values in every record's message as it is created.
Tokens are not known before a library logs the response carrying them, so anything shaped
like an OAuth token field or a bearer header is masked too.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from ...template.model import mask
from ...ui import BuildUI

_TOKEN_FIELDS = re.compile(
    r"""((?:access|refresh|id)_token["']?\s*[:=]\s*["']?|Bearer\s+)[^"'&\s,}]{8,}""",
    re.IGNORECASE,
)
_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_installed = False


def _install() -> None:
    global _installed
    with _LOCK:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _installed:
            try:
                message = record.getMessage()
            except Exception:  # a broken format string is the caller's problem, not ours
                return record
            masked = _TOKEN_FIELDS.sub(r"\1********", mask(message, set(_SECRETS)))
            if masked != message:
                record.msg, record.args = masked, None
        return record

    logging.setLogRecordFactory(factory)


def protect(ui: BuildUI | None, *values: str) -> None:
    """Mask these values in the build's output and in every log record from now on."""
    for value in values:
        if not value:
            continue
        if ui is not None:
            ui.add_secret(value)
        with _LOCK:
            _SECRETS.add(value)
    _install()
