"""A failure is said once, in the right place: the build item reports a failed build, the smoke
tests needing its image are skipped pointing at it, and an excluded build's tests say why."""

from __future__ import annotations

import json

import pytest

FAILING = {
    "builders": [{"type": "null", "communicator": "none"}],
    "provisioners": [{"type": "shell-local", "inline": ["echo about to fail", "exit 3"]}],
}
SMOKE = (
    "import pytest\n\npytestmark = pytest.mark.imagebuild('t.json')\n\n\n"
    "def test_{n}(image):\n    pass\n"
)


@pytest.fixture
def failing(pytester):
    (pytester.path / "t.json").write_text(json.dumps(FAILING))
    pytester.makepyfile(test_one=SMOKE.format(n="one"), test_two=SMOKE.format(n="two"))
    return pytester


def test_a_failed_build_fails_its_item_and_skips_the_smoke_tests_with_one_line(failing):
    result = failing.runpytest_subprocess(
        "--image-template", "t.json", "test_one.py", "test_two.py", "-rfs"
    )
    result.assert_outcomes(passed=1, failed=1, skipped=2)
    result.stdout.fnmatch_lines(["FAILED t.json::build?null?*"])
    result.stdout.fnmatch_lines(["SKIPPED*image t.json::build[[]null[]] failed; see that item*"])
    output = result.stdout.str()
    assert output.count("Erroneous exit code 3") <= 2  # the paragraph, its summary line
    assert output.count("Erroneous exit code 3") >= 1


def test_without_its_build_item_a_smoke_test_carries_the_error_itself(failing):
    result = failing.runpytest_subprocess(
        "--image-template", "t.json", "--deselect", "t.json::build[null]", "test_one.py"
    )
    result.assert_outcomes(passed=1, errors=1)  # validate, and the smoke test
    result.stdout.fnmatch_lines(["*Erroneous exit code 3*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_an_excluded_build_skips_its_smoke_tests_saying_why(pytester):
    builders = [
        {"type": "null", "name": "a", "communicator": "none"},
        {"type": "null", "name": "b", "communicator": "none"},
    ]
    (pytester.path / "t.json").write_text(json.dumps({"builders": builders}))
    pytester.makepyfile(
        test_b="import pytest\n\npytestmark = pytest.mark.imagebuild('t.json', builder='b')\n\n\n"
        "def test_b(image):\n    pass\n"
    )
    result = pytester.runpytest_subprocess(
        "--image-template", "t.json", "--image-except", "b", "test_b.py", "-rs"
    )
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*build 'b' excluded by --image-except*"])
