"""Which Azure cloud to talk to, how to authenticate, and the SDK clients.

Endpoints come from `cloud_environment_name` (as in Packer) unless the run points the
plugin elsewhere (`--image-azure-arm-url`, `--image-azure-authority`): Azure Stack, a
sovereign cloud with custom endpoints, or the tests' loopback Resource Manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import RequestsTransport

from ..clock import REAL_CLOCK, Clock
from ..errors import BuildError
from ..secrets import protect
from ..ui import BuildUI
from .calls import azure_call
from .config import AzureArmConfig
from .endpoints import AzureEndpoints

CLOUDS = {
    "public": ("https://management.azure.com/", "https://login.microsoftonline.com"),
    "azurepubliccloud": ("https://management.azure.com/", "https://login.microsoftonline.com"),
    "china": ("https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn"),
    "azurechinacloud": ("https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn"),
    "usgovernment": ("https://management.usgovcloudapi.net/", "https://login.microsoftonline.us"),
    "azureusgovernmentcloud": (
        "https://management.usgovcloudapi.net/",
        "https://login.microsoftonline.us",
    ),
}
ARM_AUDIENCE = {
    "https://management.chinacloudapi.cn/": "https://management.chinacloudapi.cn/.default",
    "https://management.usgovcloudapi.net/": "https://management.usgovcloudapi.net/.default",
}
DEFAULT_SCOPE = "https://management.azure.com/.default"
NO_LIVE_CREDENTIALS = (
    "this build was not replayed from cassettes and no Azure credentials are set, so it stops "
    "here instead of trying the default Azure credential chain (managed identity, Azure CLI), "
    "which could create billable resources. To replay, check that the template's cassettes "
    "exist (cassettes/<template path>/<build>/build.yaml); to build for real, set "
    "ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID (or "
    'ARM_USE_AZURE_CLI_AUTH=true, "use_azure_cli_auth": true, ARM_USE_MSI=true for a managed '
    "identity), or ask for a recording with --image-record-mode=once."
)


class ClockTransport(RequestsTransport):
    """azure-core's requests transport whose waits (LRO polls, Retry-After) use the build clock.

    Staying on requests keeps vcrpy able to record the traffic; the clock makes the same
    waits free when a recording is replayed.
    """

    def __init__(self, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def sleep(self, duration: float) -> None:
        self.clock.sleep(duration)


@dataclass
class AzureSession:
    credential: TokenCredential
    subscription_id: str
    arm_url: str
    scope: str
    client_kwargs: dict[str, Any]
    clock: Clock = REAL_CLOCK

    def client(self, cls: type) -> Any:
        """An azure-mgmt client on this session's endpoint, transport and retry policy."""
        kwargs = dict(self.client_kwargs)
        verify = kwargs.pop("connection_verify", None)
        transport = ClockTransport(self.clock, **({"connection_verify": verify} if verify else {}))
        return cls(
            self.credential,
            self.subscription_id,
            base_url=self.arm_url,
            credential_scopes=[self.scope],
            transport=transport,
            **kwargs,
        )


def _cloud(config: AzureArmConfig) -> tuple[str, str]:
    key = config.cloud_environment_name.replace(" ", "").lower()
    if key not in CLOUDS:
        raise BuildError(
            f"cloud_environment_name {config.cloud_environment_name!r} is not one "
            "of Public, China, USGovernment"
        )
    return CLOUDS[key]


def _tuning(endpoints: AzureEndpoints) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if endpoints.polling_interval is not None:
        kwargs["polling_interval"] = endpoints.polling_interval
    if endpoints.retry_total is not None:
        kwargs["retry_total"] = int(endpoints.retry_total)
    return kwargs


def connect(
    config: AzureArmConfig,
    endpoints: AzureEndpoints,
    ui: BuildUI,
    clock: Clock = REAL_CLOCK,
    live_chain: bool = False,
) -> AzureSession:
    """Pick credentials in Packer's order: client secret, Azure CLI, then the default chain.

    The default chain (environment, managed identity, Azure CLI) is used only with
    ``live_chain``: the user asked to record or set credentials. Otherwise the build was meant
    to replay, and reaching a CI runner's managed identity would create billable resources."""
    protect(ui, config.client_secret, config.client_id, config.subscription_id, config.tenant_id)
    from azure.identity import AzureCliCredential, ClientSecretCredential, DefaultAzureCredential

    arm_url, authority = _cloud(config)
    custom = bool(endpoints.arm_url or endpoints.authority)
    arm_url = endpoints.arm_url or arm_url
    authority = endpoints.authority or authority
    transport: dict[str, Any] = (
        {"connection_verify": endpoints.ca_bundle} if endpoints.ca_bundle else {}
    )
    identity: dict[str, Any] = {"authority": authority, **transport}
    if custom:
        identity["disable_instance_discovery"] = True
    if config.client_id and config.client_secret:
        if not config.tenant_id:
            raise BuildError(
                "client_id and client_secret are set but tenant_id is empty; set "
                "tenant_id (or ARM_TENANT_ID in the example templates)"
            )
        ui.say("Getting tokens using client secret")
        credential: TokenCredential = ClientSecretCredential(
            config.tenant_id, config.client_id, config.client_secret, **identity
        )
    elif config.use_azure_cli_auth:
        ui.say("Getting tokens using Azure CLI")
        credential = AzureCliCredential()
    else:
        if not live_chain:
            raise BuildError(NO_LIVE_CREDENTIALS)
        ui.say(
            "Getting tokens using the default Azure credential chain "
            "(environment, managed identity, Azure CLI)"
        )
        chain = {k: v for k, v in identity.items() if k != "disable_instance_discovery"}
        credential = DefaultAzureCredential(**chain)
    if not config.subscription_id:
        raise BuildError(
            "subscription_id is empty: set it in the template (ARM_SUBSCRIPTION_ID "
            "in the example templates)"
        )
    scope = DEFAULT_SCOPE if custom else ARM_AUDIENCE.get(arm_url, DEFAULT_SCOPE)
    # Ask for a token now, so bad credentials fail here with their own message.
    azure_call("Getting tokens", lambda: credential.get_token(scope))
    kwargs = {**transport, **_tuning(endpoints)}
    return AzureSession(credential, config.subscription_id, arm_url, scope, kwargs, clock)
