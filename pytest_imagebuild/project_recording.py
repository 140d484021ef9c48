"""A project's say over recording, from its own ``conftest.py``: the ``imagebuild_vcr_config``
fixture (vcrpy settings, like pytest-recording's ``vcr_config``) and the
``pytest_imagebuild_secrets`` hook (more values that must never be written or printed).

Builds run in ``build[...]`` items, which are not test functions; they read the fixture the way
pytest's own doctest items read fixtures, so a conftest.py beside the template applies to them.
"""

from __future__ import annotations

from typing import Any

import pytest

from .collect import STORE_KEY
from .recording.user_config import UserVcrConfig
from .secrets import add_user_secrets

VCR_CONFIG = "imagebuild_vcr_config"


@pytest.fixture(scope="session")
def imagebuild_vcr_config() -> dict[str, Any]:
    """vcrpy settings for the plugin's cassettes; override it in your conftest.py:
    filter_headers, filter_query_parameters, filter_post_data_parameters,
    before_record_request, before_record_response, match_on (added to the plugin's matchers)
    and secret_scan_allow (texts that merely contain a secret's value)."""
    return {}


def use_vcr_config(config: pytest.Config, value: Any) -> None:
    """Hand the project's vcrpy settings to the session's cassettes."""
    recording = config.stash[STORE_KEY].recording
    if recording.cassettes is not None:
        recording.cassettes.user_config = UserVcrConfig.from_fixture(value)


def apply_to_item(item: pytest.Item) -> None:
    """Read the fixture for a non-function item (a build) and use it."""
    from _pytest.fixtures import TopRequest

    fixtureinfo = item.session._fixturemanager.getfixtureinfo(node=item, func=None, cls=None)
    item._fixtureinfo = fixtureinfo  # type: ignore[attr-defined]
    item.funcargs = {}  # type: ignore[attr-defined]
    item.obj = None  # type: ignore[attr-defined]
    request = TopRequest(item, _ispytest=True)  # type: ignore[arg-type]
    use_vcr_config(item.config, request.getfixturevalue(VCR_CONFIG))


def collect_user_secrets(config: pytest.Config) -> None:
    """Values from every pytest_imagebuild_secrets implementation: masked and kept out of
    cassettes like the template's own secrets."""
    for values in config.hook.pytest_imagebuild_secrets(config=config):
        add_user_secrets(str(value) for value in (values or ()) if value)
