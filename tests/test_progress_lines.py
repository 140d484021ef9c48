"""Builds say what they are doing: stage lines with elapsed time under -q, and under xdist on
the controller with the id of the worker that ran the build."""

from __future__ import annotations

import json

import pytest

TEMPLATE = {
    "builders": [{"type": "null", "communicator": "none"}],
    "provisioners": [{"type": "shell-local", "inline": ["echo provisioned"]}],
}


@pytest.fixture
def template(pytester):
    (pytester.path / "t.json").write_text(json.dumps(TEMPLATE))
    return pytester


def test_stage_lines_show_under_quiet(template):
    result = template.runpytest_subprocess("--image-template", "t.json", "-q")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["[[]imagebuild *.?s[]] null: Provisioning with shell-local*"])


def test_double_quiet_silences_them(template):
    result = template.runpytest_subprocess("--image-template", "t.json", "-qq")
    assert result.ret == 0
    result.stdout.no_fnmatch_line("[[]imagebuild*")


def test_xdist_workers_stage_lines_reach_the_controller_with_the_worker_id(template):
    pytest.importorskip("xdist")
    result = template.runpytest_subprocess("--image-template", "t.json", "-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["[[]imagebuild gw[01] *.?s[]] null: Provisioning with shell-local*"]
    )
