"""One way to call Azure: the SDK's own retries, then Azure's error as a one-paragraph BuildError.

azure-core already retries throttling (429, honouring Retry-After) and transient 5xx with
exponential backoff, and azure-mgmt-core turns an operation ending in `status: Failed` into
an HttpResponseError carrying Azure's code and message; what is left here is saying what we
were doing and what the user can do about it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)

from ..errors import BuildError
from .refusals import advice

_HINTS = {
    429: "Azure kept throttling the requests after the retries Retry-After asked for; "
    "wait a few minutes before building again.",
    409: "Another operation on the same resource was in progress, or the resource is in a "
    "state that does not allow this.",
}


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def explain(what: str, error: Exception) -> BuildError:
    """Azure's code and message, the HTTP status, and a hint for the common cases."""
    if isinstance(error, ClientAuthenticationError):
        return BuildError(
            f"{what} failed: Azure rejected the credentials "
            f"({_one_line(error.message).split(' Trace ID')[0]}). Check client_id, "
            "client_secret and tenant_id (ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID), "
            "or run `az login` and set use_azure_cli_auth."
        )
    if isinstance(error, ServiceRequestError):
        return BuildError(f"{what} failed: could not reach Azure ({_one_line(str(error))}).")
    assert isinstance(error, HttpResponseError)
    status = error.status_code
    code = getattr(error.error, "code", None) or (str(status) if status else "Failed")
    message = getattr(error.error, "message", None) or error.reason or error.message
    text = f"{what} failed: ({code}) {_one_line(message)}"
    if status:
        text += f" [HTTP {status}]"
    hint = advice(code, message or "", getattr(error.error, "target", None))
    hint = hint or _HINTS.get(status or 0)
    if hint is None and status and status >= 500:
        hint = "Azure kept failing after retries; this is usually transient, try again later."
    return BuildError(f"{text}. {hint}" if hint else f"{text}.")


def azure_call(what: str, action: Callable[[], Any]) -> Any:
    """Run an SDK call (and wait for its operation); Azure's errors become BuildError."""
    try:
        return action()
    except (HttpResponseError, ServiceRequestError) as error:
        raise explain(what, error) from None


def delete_quietly(action: Callable[[], Any]) -> None:
    """Delete something that may already be gone."""
    with contextlib.suppress(ResourceNotFoundError):
        action()
