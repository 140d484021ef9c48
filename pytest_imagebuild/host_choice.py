"""Which ``host`` a test gets: the VM's for a test tied to a template, testinfra's otherwise.

testinfra defines ``host`` too, for every test of the session. This plugin's ``host`` must not
take that away from a plain testinfra suite (``pytest --hosts=local://``) run in the same
session, so it only answers for tests tied to a template and hands every other test to
testinfra's own ``_testinfra_host`` (which testinfra parametrizes from ``--hosts``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Fixtures that only make sense for a test tied to a template.
TEMPLATE_FIXTURES = {"image", "vm", "image_template", "image_build_name"}
TESTINFRA_HOST = "_testinfra_host"


def tied_to_template(node: pytest.Item | pytest.Collector, fixturenames: set[str]) -> bool:
    """A test is about a template when its module is marked ``imagebuild``, when its file is a
    companion of a template (test_<template>.py beside it), or when it asks for the image or
    the VM itself."""
    from .fixtures import _companion_templates

    if node.get_closest_marker("imagebuild") is not None:
        return True
    if TEMPLATE_FIXTURES & fixturenames:
        return True
    return bool(_companion_templates(Path(str(node.path))))


def uses_template_host(node: pytest.Item | pytest.Collector, fixturenames: set[str]) -> bool:
    """Whether this test's ``host`` (or image, vm) is one the plugin launches."""
    return bool(({"host"} | TEMPLATE_FIXTURES) & fixturenames) and tied_to_template(
        node, fixturenames
    )


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Before testinfra parametrizes ``_testinfra_host`` from --hosts, put it in the closure
    of tests whose ``host`` is testinfra's."""
    names = metafunc.fixturenames
    if "host" not in names or TESTINFRA_HOST in names:
        return
    if tied_to_template(metafunc.definition, set(names)):
        return
    if testinfra_loaded(metafunc.config):
        names.append(TESTINFRA_HOST)


def testinfra_loaded(config: pytest.Config) -> bool:
    """pytest-testinfra's plugin is registered (not turned off with -p no:...)."""
    try:
        import testinfra.plugin
    except ImportError:
        return False
    return config.pluginmanager.is_registered(testinfra.plugin)


def testinfra_host(request: pytest.FixtureRequest) -> object:
    """testinfra's own host for this test (parametrized by testinfra from --hosts)."""
    if not testinfra_loaded(request.config):
        raise pytest.UsageError("the host fixture needs pytest-testinfra's plugin, not loaded")
    return request.getfixturevalue(TESTINFRA_HOST)
