"""What a secret is, and the one way it is hidden, wherever text leaves the plugin.

Every layer asks this module: templates (which fields are secret), the terminal and reports
(``mask``), log records of any library (``protect`` installs one log-record factory), the
recording scrubber (``WIRE_SECRET_KEYS`` and ``encoded_forms``) and the final scan before a
cassette is written. One marker, one length rule: a value shorter than
``MIN_SECRET_LENGTH`` is not masked, since replacing one- or two-letter strings everywhere
would garble output without protecting anything.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

SENSITIVE_MARK = "<sensitive>"
MIN_SECRET_LENGTH = 3

# Template keys whose values are secret in any builder or provisioner (Packer's names).
SENSITIVE_FIELDS = frozenset(
    {
        "client_secret",
        "client_jwt",
        "password",
        "ssh_password",
        "winrm_password",
        "ssh_private_key",
        "ssh_bastion_password",
        "ssh_proxy_password",
        "vnc_password",
        "access_key",
        "secret_key",
        "token",
        "subscription_id",
        "tenant_id",
        "object_id",
        "client_cert_path",
    }
)

# Keys of HTTP bodies (JSON or form) whose values never reach a cassette, compared lowercased.
WIRE_SECRET_KEYS = frozenset(
    {
        "adminpassword",
        "password",
        "client_secret",
        "clientsecret",
        "client_assertion",
        "assertion",
        "access_token",
        "refresh_token",
        "id_token",
        "client_info",
        "secret",
        "protectedsettings",
    }
)
# Keys of HTTP bodies holding tenant, subscription and principal ids (replaced by a fake id).
WIRE_IDENTITY_KEYS = frozenset(
    {"tenantid", "principalid", "objectid", "oid", "tid", "subscriptionid"}
)


def maskable(value: str) -> bool:
    return len(value) >= MIN_SECRET_LENGTH


# Values a project names with the pytest_imagebuild_secrets hook: secret in every run.
_USER_SECRETS: set[str] = set()


def add_user_secrets(values: Iterable[str]) -> None:
    """Values masked everywhere from now on (and kept out of cassettes, see user_secrets)."""
    named = [value for value in values if value and maskable(value)]
    _USER_SECRETS.update(named)
    hide_in_logs(*named)


def user_secrets() -> set[str]:
    return set(_USER_SECRETS)


def mask(text: str, secrets: Iterable[str]) -> str:
    """Hide every secret in every form ``encoded_forms`` knows (raw, URL-encoded, inside
    base64), longest form first so that overlapping secrets leave no piece; and the values a
    project's ``pytest_imagebuild_secrets`` hook named."""
    every = frozenset(s for s in secrets if s and maskable(s)) | _USER_SECRETS
    pattern = forms_pattern(every)
    return pattern.sub(SENSITIVE_MARK, text) if pattern is not None else text


def redact(value: Any, secrets: set[str]) -> Any:
    """A copy of a config with sensitive fields and secret values shown as <sensitive>."""
    if isinstance(value, dict):
        return {
            key: SENSITIVE_MARK if key in SENSITIVE_FIELDS and item else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item, secrets) for item in value]
    if isinstance(value, str):
        return mask(value, secrets)
    return value


def encoded_forms(value: str) -> list[str]:
    """How a secret may appear in HTTP text: raw, URL-encoded, inside base64 (UTF-8 or UTF-16LE,
    as PowerShell's -EncodedCommand carries it), at any of the three base64 alignments."""
    forms = {value, quote(value, safe=""), quote_plus(value)}
    for raw in (value.encode(), value.encode("utf-16-le")):
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + raw).decode()
            # Drop the characters that depend on the neighbouring bytes.
            start = (shift * 4 + 2) // 3 + 1 if shift else 0
            core = encoded[start : len(encoded) - 4]
            if len(core) >= 8:
                forms.add(core)
    return [form for form in forms if maskable(form)]


@functools.lru_cache(maxsize=64)
def forms_pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    """One regex matching every encoded form of these secrets, longest first; built once per
    set of secrets, so masking a line costs one regex scan however many secrets there are."""
    forms = {form for secret in secrets for form in encoded_forms(secret)}
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


# -- log records -----------------------------------------------------------------------------
# azure-core logs request URLs (which carry the subscription id), MSAL logs tenant and client
# ids, urllib3 logs request paths. Masking each logger would miss the next library, so a log
# record factory masks the known secret values in every record's message as it is created.
# Tokens are not known before a library logs the response carrying them, so anything shaped
# like an OAuth token field or a bearer header is masked too.
_TOKEN_FIELDS = re.compile(
    r"""((?:access|refresh|id)_token["']?\s*[:=]\s*["']?|Bearer\s+)[^"'&\s,}]{8,}""",
    re.IGNORECASE,
)
_SECRETS: frozenset[str] = frozenset()
_PATTERN: re.Pattern[str] | None = None  # every form of _SECRETS, rebuilt when they change
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
            try:  # the message as it will print: msg % args, whatever args hold
                message = record.getMessage()
            except Exception:  # a broken format string is the caller's problem, not ours
                return record
            pattern = _PATTERN
            masked = pattern.sub(SENSITIVE_MARK, message) if pattern is not None else message
            masked = _TOKEN_FIELDS.sub(r"\1********", masked)
            if masked != message:
                record.msg, record.args = masked, None
        return record

    logging.setLogRecordFactory(factory)


def hide_in_logs(*values: str) -> None:
    """Mask these values, in every encoding, in every log record from now on."""
    global _SECRETS, _PATTERN
    known = {value for value in values if value and maskable(value)}
    with _LOCK:
        if not known <= _SECRETS:
            _SECRETS = _SECRETS | known
            _PATTERN = forms_pattern(_SECRETS)
    _install()


def protect(ui: Any, *values: str) -> None:
    """Mask these values in a build's output (``ui``, if any) and in every log record."""
    for value in values:
        if value and ui is not None:
            ui.add_secret(value)
    hide_in_logs(*values)
