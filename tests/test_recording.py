"""Record and replay of real Azure SDK traffic against the loopback Azure, then offline."""

from __future__ import annotations

import base64
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from pytest_imagebuild.recording import (
    CassetteError,
    CassetteRecorder,
    NotInCassette,
    RecordingSettings,
    SecretBook,
)
from pytest_imagebuild.recording.blocking import NetworkBlocked
from pytest_imagebuild.recording.placeholders import placeholder_for
from standin import Standin

TEMPLATE = Path("webserver.json")


@pytest.fixture
def azure(fresh_azure: Standin) -> Standin:
    """These tests stop their stand-in to prove the replay is offline: one per test."""
    return fresh_azure


def _book(values: dict[str, str]) -> SecretBook:
    return SecretBook(named=dict(values))


def _secrets(azure: Standin) -> dict[str, str]:
    return {
        "client_secret": azure.client_secret,
        "tenant_id": azure.tenant_id,
        "subscription_id": azure.subscription_id,
        "client_id": azure.client_id,
    }


def _client(values: dict[str, str], authority: str, arm_url: str, verify: Any) -> Any:
    credential = ClientSecretCredential(
        tenant_id=values["tenant_id"],
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        authority=authority,
        disable_instance_discovery=True,
        **({"connection_verify": verify} if verify else {}),
    )
    extra = {"connection_verify": verify} if verify else {}
    return ResourceManagementClient(
        credential,
        values["subscription_id"],
        base_url=arm_url,
        credential_scopes=["https://management.azure.com/.default"],
        polling_interval=0,
        **extra,
    )


def _workload(client: Any, size: str = "westeurope") -> list[str]:
    group = client.resource_groups.create_or_update(
        "pkr-Resource-Group-abc", {"location": size, "tags": {"imagebuild-run": "r1"}}
    )
    exists = client.resource_groups.check_existence("pkr-Resource-Group-abc")
    client.resource_groups.begin_delete("pkr-Resource-Group-abc").result()
    return [group.id, group.properties.provisioning_state, str(exists)]


def test_round_trip_replays_offline_with_no_secret_written(azure: Standin, tmp_path: Path) -> None:
    settings = RecordingSettings(mode="once", root=tmp_path, can_record=True)
    secrets = _secrets(azure)
    recording = CassetteRecorder(settings)
    with recording.use(TEMPLATE, "azure-arm", "build", _book(secrets)):
        recorded = _workload(_client(secrets, azure.authority, azure.arm_url, azure.ca_bundle))
    assert recording.finish() == []  # the session's end moves the recording into place
    cassette = tmp_path / "webserver" / "azure-arm" / "build.yaml"
    text = cassette.read_text()
    for name, value in secrets.items():
        assert value not in text, name
    assert "Authorization:" not in text and '"access_token": "scrubbed"' in text

    azure.stop()
    placeholders = {name: placeholder_for(name, value) for name, value in secrets.items()}
    replay = CassetteRecorder(RecordingSettings(mode="none", root=tmp_path))
    started = time.monotonic()
    with replay.use(TEMPLATE, "azure-arm", "build", _book(placeholders)) as options:
        replayed = _workload(_client(placeholders, azure.authority, azure.arm_url, None))
    assert options["clock"].virtual
    assert replayed == [
        recorded[0].replace(secrets["subscription_id"], placeholders["subscription_id"]),
        *recorded[1:],
    ]
    assert time.monotonic() - started < 5


def test_changed_request_names_the_difference(azure: Standin, tmp_path: Path) -> None:
    secrets = _secrets(azure)
    recording = CassetteRecorder(RecordingSettings(mode="once", root=tmp_path, can_record=True))
    with recording.use(TEMPLATE, "azure-arm", "build", _book(secrets)):
        _workload(_client(secrets, azure.authority, azure.arm_url, azure.ca_bundle))
    recording.finish()
    replay = CassetteRecorder(RecordingSettings(mode="none", root=tmp_path))
    with (
        pytest.raises(NotInCassette) as raised,
        replay.use(TEMPLATE, "azure-arm", "build", _book(secrets)),
    ):
        _workload(_client(secrets, azure.authority, azure.arm_url, azure.ca_bundle), "eastus2")
    message = str(raised.value)
    assert "PUT " in message and "pkr-Resource-Group-abc" in message
    assert "location is 'eastus2', recorded 'westeurope'" in message
    assert "build.yaml" in message and "--image-record-mode=rewrite" in message


def test_missing_cassette_on_replay_says_how_to_record(tmp_path: Path) -> None:
    replay = CassetteRecorder(RecordingSettings(mode="", root=tmp_path, can_record=False))
    with (
        pytest.raises(CassetteError, match=r"no cassette .*--image-record-mode=once"),
        replay.use(TEMPLATE, "azure-arm", "build", _book({})),
    ):
        pass


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("interactions: [\n  - request: {method: GET\n", r"line \d+, column \d+: invalid YAML"),
        ("version: 1\ninteractions: 3\n", "'interactions' is not a list"),
        (
            "version: 1\ninteractions:\n- request: {method: GET, uri: 'https://x/'}\n"
            "  response: {status: {code: OK}}\n",
            r"interactions\[0\]\.response\.status\.code",
        ),
    ],
)
def test_corrupt_cassette_is_a_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    cassette = tmp_path / "webserver" / "azure-arm" / "build.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text(content)
    replay = CassetteRecorder(RecordingSettings(mode="none", root=tmp_path))
    with (
        pytest.raises(CassetteError, match=expected) as raised,
        replay.use(TEMPLATE, "azure-arm", "build", _book({})),
    ):
        pass
    assert str(cassette) in str(raised.value)


def test_replay_blocks_the_network(tmp_path: Path) -> None:
    cassette = tmp_path / "webserver" / "azure-arm" / "build.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("version: 1\ninteractions: []\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    replay = CassetteRecorder(RecordingSettings(mode="none", root=tmp_path))
    with (
        pytest.raises(NotInCassette, match=r"GET http://127\.0\.0\.1:\d+/x is not in"),
        replay.use(TEMPLATE, "azure-arm", "build", _book({})),
    ):
        requests.get(f"http://127.0.0.1:{port}/x", timeout=2)
    with (
        replay.use(TEMPLATE, "azure-arm", "build", _book({})),
        pytest.raises(NetworkBlocked, match="blocked"),
    ):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    listener.close()


def test_a_secret_the_scrubber_missed_is_never_saved(azure: Standin, tmp_path: Path) -> None:
    """A generated password inside base64 the scrubber cannot take apart (glued to other
    text, so it does not decode as one blob) is found by the last scan; the cassette is not
    written. (Whole blobs, as -EncodedCommand carries them, are scrubbed: test_secret_masking.)"""
    password = "Gen3rated-Pa55word!"
    book = SecretBook(live=lambda: {password})
    settings = RecordingSettings(mode="once", root=tmp_path, can_record=True)
    recording = CassetteRecorder(settings)
    with (
        pytest.raises(CassetteError, match="a generated secret would be written"),
        recording.use(TEMPLATE, "azure-arm", "launch", book),
    ):
        encoded = "x" + base64.b64encode(f"net user x {password}".encode("utf-16-le")).decode()
        requests.get(
            f"{azure.arm_url.rstrip('/')}/subscriptions?cmd={encoded}",
            verify=azure.ca_bundle,
            timeout=10,
        )
    recording.finish()
    assert not (tmp_path / "webserver" / "azure-arm" / "launch.yaml").exists()
