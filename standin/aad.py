"""Microsoft Entra ID (AAD) as MSAL's client-credentials flow sees it.

MSAL, with `disable_instance_discovery=True`, reads `{authority}/{tenant}/v2.0/.well-known/
openid-configuration` and posts to its `token_endpoint`. Tokens are opaque random strings the ARM
side checks; the secret is compared and never stored or logged. Errors carry AAD's real bodies
(`AADSTS7000215` for a wrong secret with 401, `AADSTS700016` unknown client, `AADSTS90002`
unknown tenant, `AADSTS1002012` scope without `/.default`).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from standin.settings import Settings

ARM_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")


@dataclass(frozen=True)
class Token:
    value: str
    audience: str
    expires: float  # time.time()


class Directory:
    def __init__(self, settings: Settings, authority: str) -> None:
        self.settings = settings
        self.authority = authority.rstrip("/")
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    # -- HTTP ------------------------------------------------------------------------------
    def handle(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2:
            return None
        tenant, rest = parts[0], "/".join(parts[1:]).lower()
        if method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            if tenant.lower() != self.settings.tenant_id.lower():
                return 400, self._error(
                    "invalid_tenant",
                    90002,
                    (
                        f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                        "tenant "
                        "ID and are signing into the correct cloud. Check with your subscription "
                        "administrator, this may happen if there are no active subscriptions for "
                        "the tenant."
                    ),
                )
            return 200, self._openid(tenant)
        if method == "POST" and rest == "oauth2/v2.0/token":
            return self._token(tenant, parse_qs(body.decode("utf-8")))
        return None

    def _openid(self, tenant: str) -> dict[str, Any]:
        base = f"{self.authority}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{self.authority}/{tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "tid",
                "ver",
                "oid",
            ],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def _token(self, tenant: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        def field(name: str) -> str:
            return (form.get(name) or [""])[0]

        if tenant.lower() != self.settings.tenant_id.lower():
            return 400, self._error(
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. "
                "Check to make sure you have the correct tenant ID and are "
                "signing into the correct cloud.",
            )
        if field("grant_type") != "client_credentials":
            return 400, self._error(
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{field('grant_type')}'.",
            )
        if field("client_id") != self.settings.client_id:
            return 400, self._error(
                "unauthorized_client",
                700016,
                (
                    f"Application with identifier '{field('client_id')}' was not found in the "
                    f"directory '{tenant}'. This can happen if the application has not been "
                    "installed by the administrator of the tenant or consented to by any user in "
                    "the "
                    "tenant. You may have sent your authentication request to the wrong tenant."
                ),
            )
        if not hmac.compare_digest(
            field("client_secret").encode(), self.settings.client_secret.encode()
        ):
            return 401, self._error(
                "invalid_client",
                7000215,
                (
                    "Invalid client secret provided. Ensure the secret being sent in the request "
                    "is "
                    "the client secret value, not the client secret ID, for a secret added to app "
                    f"'{self.settings.client_id}'."
                ),
            )
        scope = field("scope").split()
        resource = scope[0] if scope else ""
        if not resource.endswith("/.default"):
            return 400, self._error(
                "invalid_scope",
                1002012,
                (
                    f"The provided value for scope {field('scope')} is not valid. Client "
                    "credential "
                    "flows must have a scope value with /.default suffixed to the resource "
                    "identifier (application ID URI)."
                ),
            )
        value = secrets.token_urlsafe(48)
        lifetime = self.settings.token_lifetime
        token = Token(value, resource.removesuffix("/.default").rstrip("/"), time.time() + lifetime)
        with self._lock:
            self._tokens[value] = token
        return 200, {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": value,
        }

    def _error(self, error: str, code: int, text: str) -> dict[str, Any]:
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: "
            f"{corr} Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": f"{self.authority}/error?code={code}",
        }

    # -- used by ARM ---------------------------------------------------------------------------
    def check(self, value: str) -> tuple[str, str] | None:
        """None if the bearer token is good for ARM, else (error code, message)."""
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            return "InvalidAuthenticationToken", "The access token is invalid."
        if token.expires < time.time():
            stamp = dt.datetime.fromtimestamp(token.expires, dt.timezone.utc)
            return "ExpiredAuthenticationToken", (
                f"The access token expiry UTC time '{stamp:%m/%d/%Y %I:%M:%S %p}' is earlier "
                f"than current UTC time '{dt.datetime.now(dt.timezone.utc):%m/%d/%Y %I:%M:%S %p}'."
            )
        if token.audience not in ARM_AUDIENCES:
            return "InvalidAuthenticationTokenAudience", (
                f"The access token has been obtained for wrong audience or resource "
                f"'{token.audience}'. It should exactly match with one of the allowed audiences "
                "'https://management.core.windows.net/','https://management.core.windows.net',"
                "'https://management.azure.com/','https://management.azure.com'."
            )
        return None

    def token_values(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    def expire_all(self) -> None:
        """Test hook: every issued token is now expired (as after an hour on Azure)."""
        with self._lock:
            self._tokens = {k: Token(t.value, t.audience, 0) for k, t in self._tokens.items()}
