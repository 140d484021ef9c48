"""The janitor's Azure side: find resource groups a run created and delete them.

Credentials are never journaled; they come from the environment (Packer's ARM_* names, or
azure-identity's AZURE_* names) and reach Azure through the builder's own ``connect()``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import rfc3339
from ..cleanup.cleaners import Existence, Found
from ..errors import ImagebuildError
from ..secrets import mask

RUN_TAG = "imagebuild-run"
LAUNCH_TAG = "imagebuild-launch"
CREATED_TAG = "imagebuild-created"
RUN_TAGS = (RUN_TAG, LAUNCH_TAG)

_ENV_NAMES = {
    "subscription_id": ("ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"),
    "tenant_id": ("ARM_TENANT_ID", "AZURE_TENANT_ID"),
    "client_id": ("ARM_CLIENT_ID", "AZURE_CLIENT_ID"),
    "client_secret": ("ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"),
}


@dataclass(frozen=True)
class AzureTarget:
    """Which Azure a group lives in: what the journal keeps instead of credentials."""

    cloud: str = "Public"
    arm_url: str = ""
    authority: str = ""
    ca_bundle: str = ""

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AzureTarget:
        return cls(
            str(data.get("cloud") or "Public"),
            str(data.get("arm_url") or ""),
            str(data.get("authority") or ""),
            str(data.get("ca_bundle") or ""),
        )

    def as_data(self) -> dict[str, str]:
        return {
            "cloud": self.cloud,
            "arm_url": self.arm_url,
            "authority": self.authority,
            "ca_bundle": self.ca_bundle,
        }

    def describe(self) -> str:
        return self.arm_url or f"Azure {self.cloud}"


def env_credentials(env: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    found = {}
    for key, names in _ENV_NAMES.items():
        found[key] = next((env[n] for n in names if env.get(n)), "")
    return found


def created_at(tags: Mapping[str, str]) -> float | None:
    """When the group was made, if its tags say (ISO 8601 or epoch seconds)."""
    text = tags.get(CREATED_TAG, "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return rfc3339.parse(text).timestamp()
    except ValueError:
        return None


def run_of(tags: Mapping[str, str] | None) -> str:
    tags = tags or {}
    return next((tags[t] for t in RUN_TAGS if tags.get(t)), "")


class AzureCleaner:
    """One connection to one Azure; every failure surfaces as a paragraph, secrets masked."""

    def __init__(self, target: AzureTarget, env: Mapping[str, str] | None = None) -> None:
        self.target = target
        self.credentials = env_credentials(env)
        self.broken: ImagebuildError | None = None
        self._client: Any = None

    @property
    def secrets(self) -> tuple[str, ...]:
        c = self.credentials
        return (c["client_secret"], c["subscription_id"], c["tenant_id"])

    def fail(self, doing: str, error: Exception) -> ImagebuildError:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return ImagebuildError(
            mask(f"{doing} at {self.target.describe()} failed: {first}", self.secrets)
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        from ..ui import BuildUI
        from .cloud import connect
        from .config import AzureArmConfig
        from .endpoints import AzureEndpoints

        if not self.credentials["subscription_id"]:
            raise ImagebuildError(
                "the janitor needs credentials to check resource groups there: set "
                "ARM_SUBSCRIPTION_ID, and ARM_CLIENT_ID, "
                "ARM_CLIENT_SECRET and ARM_TENANT_ID for a service principal (or the AZURE_* "
                "names azure-identity reads, or log in with `az login`)."
            )
        config = AzureArmConfig.from_plan(
            {**self.credentials, "cloud_environment_name": self.target.cloud}
        )
        t = self.target
        endpoints = AzureEndpoints(t.arm_url, t.authority, t.ca_bundle)
        quiet = BuildUI("janitor", stream=io.StringIO())
        # The janitor is run on purpose, against live Azure: any credential may be used.
        return connect(config, endpoints, quiet, live_chain=True).client(ResourceManagementClient)

    def _call(self, doing: str, action: Callable[[], Any]) -> Any:
        """Run one ARM call; an Azure that cannot be reached or refuses us is not asked again."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            ResourceNotFoundError,
            ServiceRequestError,
        )

        if self.broken is not None:
            raise self.broken
        try:
            return action()
        except ResourceNotFoundError:
            raise
        except ImagebuildError as error:
            where = f"Azure at {self.target.describe()}: "
            self.broken = ImagebuildError(mask(where + str(error), self.secrets))
            raise self.broken from None
        except (ClientAuthenticationError, ServiceRequestError) as error:
            self.broken = self.fail(doing, error)
            raise self.broken from None
        except Exception as error:
            raise self.fail(doing, error) from None

    def group_tags(self, name: str) -> dict[str, str] | None:
        """The group's tags, or None when there is no such group."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            group = self._call(
                f"Reading resource group {name}", lambda: self.client.resource_groups.get(name)
            )
        except ResourceNotFoundError:
            return None
        return dict(group.tags or {})

    def tagged_groups(self) -> dict[str, dict[str, str]]:
        """Every group carrying a pytest-imagebuild run tag, by name."""
        found: dict[str, dict[str, str]] = {}
        for tag in RUN_TAGS:
            groups = self._call(
                "Listing resource groups",
                lambda tag=tag: list(
                    self.client.resource_groups.list(filter=f"tagName eq '{tag}'")
                ),
            )
            found.update({group.name: dict(group.tags or {}) for group in groups})
        return found

    def begin_delete(self, name: str) -> Any:
        """A poller, or None when the group is already gone."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self._call(
                f"Deleting resource group {name}",
                lambda: self.client.resource_groups.begin_delete(name),
            )
        except ResourceNotFoundError:
            return None

    def wait(self, name: str, poller: Any) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        if poller is None:
            return
        try:
            self._call(f"Deleting resource group {name}", poller.result)
        except ResourceNotFoundError:
            return


GROUP_KIND = "azure-resource-group"


class GroupCleaner:
    """The janitor's view of Azure: journaled groups by name, others by their run tag.

    One ``AzureCleaner`` per Azure (cloud and endpoints) met in the journals, plus the one the
    command line or environment names when credentials are set.
    """

    def __init__(self, settings: Mapping[str, str], env: Mapping[str, str] | None) -> None:
        self.env = env
        self.configured = AzureTarget.from_data(settings)
        self._cleaners: dict[AzureTarget, AzureCleaner] = {}
        self._seen: set[AzureTarget] = set()

    def _cleaner(self, target: AzureTarget) -> AzureCleaner:
        if target not in self._cleaners:
            self._cleaners[target] = AzureCleaner(target, self.env)
        return self._cleaners[target]

    def check(self, entry: Any) -> Existence:
        target = AzureTarget.from_data(entry.data)
        self._seen.add(target)
        where = target.describe()
        tags = self._cleaner(target).group_tags(entry.name)
        if tags is None:
            return Existence(False, where)
        if run_of(tags) != entry.owner.run_id:
            return Existence(
                False,
                where,
                f"Resource group {entry.name} at {where} exists but is not tagged with run "
                f"{entry.owner.run_id}; it was left alone (someone else's group?).",
            )
        return Existence(True, where)

    def unsearched(self) -> str:
        """Why Azure could not be searched for groups tagged by earlier runs ("" if it can)."""
        if env_credentials(self.env)["subscription_id"]:
            return ""
        return (
            "Azure, for lack of a subscription id (set ARM_SUBSCRIPTION_ID and credentials to "
            "find resource groups tagged by earlier runs; journaled groups are still checked)"
        )

    def scan(self, report: Callable[[str], None]) -> list[Found]:
        targets = set(self._seen)
        if env_credentials(self.env)["subscription_id"]:
            targets.add(self.configured)
        found = []
        for target in sorted(targets, key=lambda t: t.describe()):
            try:
                groups = self._cleaner(target).tagged_groups()
            except ImagebuildError as error:
                report(str(error))
                continue
            where = target.describe()
            for name, tags in sorted(groups.items()):
                found.append(Found(GROUP_KIND, name, run_of(tags), created_at(tags), where, target))
        return found

    def begin_remove(self, kind: str, name: str, entry: Any, handle: Any) -> Any:
        target = handle if isinstance(handle, AzureTarget) else AzureTarget.from_data(entry.data)
        return target, self._cleaner(target).begin_delete(name)

    def finish_remove(self, kind: str, name: str, token: Any) -> None:
        target, poller = token
        self._cleaner(target).wait(name, poller)
