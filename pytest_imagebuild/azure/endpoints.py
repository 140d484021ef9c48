"""Where and how to reach Azure, kept apart so settings can name it without the Azure SDK.

Besides endpoint overrides this carries two tuning knobs a run may set through the
environment: how often to poll long-running operations when Azure sends no Retry-After
(azure-core's default is 30 s) and how many times to retry throttled or failed requests
(azure-core's default is 10, with exponential backoff). Real subscriptions want the
defaults; a loopback stand-in answering at once wants them small.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

POLLING_ENV = "IMAGEBUILD_AZURE_POLLING_INTERVAL"
RETRIES_ENV = "IMAGEBUILD_AZURE_RETRY_TOTAL"


def _env_number(name: str) -> float | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class AzureEndpoints:
    """Overrides from the command line or environment; empty means the template's cloud."""

    arm_url: str = ""
    authority: str = ""
    ca_bundle: str = ""
    polling_interval: float | None = field(default_factory=lambda: _env_number(POLLING_ENV))
    retry_total: float | None = field(default_factory=lambda: _env_number(RETRIES_ENV))
