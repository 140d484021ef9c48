"""Cassettes recorded with `python -m standin.record_examples` carry Azure's
long-running behaviour: each operation is polled `InProgress` at least once before it
succeeds (replay stays free of waits: the plugin's clock is virtual there)."""

from __future__ import annotations

import requests
from azure.identity import ClientSecretCredential

from standin import start_standin
from standin.record_examples import recording_options
from standin.settings import LRO_KINDS


def test_recording_settings_poll_every_operation_in_progress_first() -> None:
    options = recording_options(realistic=False)
    with start_standin(**options) as azure:
        assert all(azure.settings.polls_for(kind) >= 2 for kind in LRO_KINDS)
        token = ClientSecretCredential(**azure.credential_kwargs()).get_token(
            "https://management.azure.com/.default"
        )
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the stand-in's CA
        session.verify = azure.ca_bundle
        session.headers["Authorization"] = f"Bearer {token.token}"
        base = f"{azure.arm_url}subscriptions/{azure.subscription_id}/resourcegroups/rg"
        session.put(f"{base}?api-version=2025-04-01", json={"location": "westeurope"}, timeout=10)
        put = session.put(
            f"{base}/providers/Microsoft.Network/virtualNetworks/vn?api-version=2026-03-01",
            json={
                "location": "westeurope",
                "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
            },
            timeout=10,
        )
        assert put.status_code == 201
        poll = put.headers["Azure-AsyncOperation"]
        statuses = [session.get(poll, timeout=10).json()["status"] for _ in range(2)]
    assert statuses == ["InProgress", "Succeeded"]
