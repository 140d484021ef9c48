"""The janitor says which clouds it could not search instead of a bare "0 left behind"."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pytest_imagebuild.azure.cleaner import GroupCleaner
from pytest_imagebuild.cleanup.command import JanitorRequest, run_janitor


@pytest.fixture
def no_azure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IMAGEBUILD_STATE_DIR", str(tmp_path / "state"))
    for name in ("ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_without_a_subscription_the_janitor_says_azure_was_not_searched(no_azure: Path) -> None:
    out = io.StringIO()
    code = run_janitor(JanitorRequest(), out)
    first = out.getvalue().splitlines()[0]
    assert code == 0  # nothing is wrong: there was just nowhere else to look
    assert "0 resources left behind" in first
    assert "not searched: Azure" in first and "ARM_SUBSCRIPTION_ID" in first


def test_with_a_subscription_azure_counts_as_searchable() -> None:
    assert GroupCleaner({}, {"ARM_SUBSCRIPTION_ID": "sub"}).unsearched() == ""
    assert "subscription id" in GroupCleaner({}, {}).unsearched()
