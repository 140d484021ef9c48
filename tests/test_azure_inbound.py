"""allowed_inbound_ip_addresses: the build's (and the launched VM's) NSG lets only those
sources reach WinRM/SSH and HTTP, as Packer's setting does; the stand-in enforces the rule."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.test_azure_faults import (
    Scenario,
    assert_all_deleted,
    assert_one_paragraph,
    failure_paragraph,
    play,
)

CASES = {
    # the tests reach the stand-in's public IPs from 127.0.0.1
    "caller-allowed": Scenario(
        builder={"allowed_inbound_ip_addresses": ["127.0.0.1", "198.51.100.0/24"]}, smoke=True
    ),
    "caller-not-allowed": Scenario(builder={"allowed_inbound_ip_addresses": "203.0.113.7"}),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with ThreadPoolExecutor(2) as pool:
        futures = {
            name: pool.submit(play, name, scenario, tmp_path_factory.mktemp(name))
            for name, scenario in CASES.items()
        }
        return {name: future.result() for name, future in futures.items()}


def test_the_build_and_the_launched_vm_answer_an_allowed_caller(
    outcomes: dict[str, Any],
) -> None:
    outcome = outcomes["caller-allowed"]
    assert outcome.code == 0, outcome.output[-4000:]
    assert "5 passed" in outcome.output
    assert_all_deleted(outcome.azure)


def test_a_caller_outside_the_allowed_addresses_never_reaches_winrm(
    outcomes: dict[str, Any],
) -> None:
    outcome = outcomes["caller-not-allowed"]
    assert outcome.code == 1, outcome.output[-4000:]
    assert_one_paragraph(failure_paragraph(outcome.output), "Timed out after", "WinRM")
    assert_all_deleted(outcome.azure)
