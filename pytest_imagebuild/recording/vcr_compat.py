"""vcrpy releases before 9 (the newest ones Python 3.10 can install) lack ``release_conn`` on
their replayed responses; requests-ntlm (WinRM's NTLM handshake) calls it after each 401, so
every WinRM replay and recording failed there with an AttributeError. This gives those
releases the method urllib3's own responses have: hand the connection back to its pool."""

from __future__ import annotations

from typing import Any


def _release_conn(response: Any) -> None:
    """As urllib3's HTTPResponse.release_conn: return the leased connection to its pool (the
    NTLM handshake needs the same connection for its next request)."""
    pool = getattr(response, "_pool", None)
    connection = getattr(response, "_connection", None)
    if pool is not None and connection is not None:
        pool._put_conn(connection)
    response._connection = None


def ensure_release_conn() -> None:
    """Add ``release_conn`` to vcrpy's response stub when this vcrpy has none."""
    from vcr.stubs import VCRHTTPResponse

    if not hasattr(VCRHTTPResponse, "release_conn"):
        VCRHTTPResponse.release_conn = _release_conn  # type: ignore[attr-defined]
