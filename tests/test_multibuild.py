"""A template with several builds: its smoke tests run against every selected build, each
build's VM shared by that module's tests for that build; one build keeps today's node ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_null_builder import Sshd, null_template, sshd  # noqa: F401 (a fixture)

NO_VM = {"type": "null", "communicator": "none"}


def _two_builds(pytester: pytest.Pytester, *names: str) -> None:
    builds = [dict(NO_VM, name=name) for name in names or ("one", "two")]
    (pytester.path / "t.json").write_text(json.dumps({"builders": builds}))


ORDER_MODULE = """
import pytest

ORDER = []


@pytest.fixture(scope="module")
def per_build(image_build_name):
    ORDER.append("setup " + image_build_name)
    yield image_build_name
    ORDER.append("teardown " + image_build_name)


def test_a(image, image_build_name, per_build):
    assert image.build_name == image_build_name == per_build
    ORDER.append("a " + image_build_name)


def test_b(image_build_name, per_build):
    ORDER.append("b " + image_build_name)


def test_zz_order():
    print("ORDER=" + ",".join(ORDER))
"""


def test_every_build_gets_the_tests_one_build_after_the_other(pytester: pytest.Pytester) -> None:
    _two_builds(pytester)
    pytester.makepyfile(test_t=ORDER_MODULE)
    result = pytester.runpytest_subprocess("--image-template", "t.json", "test_t.py", "-v", "-s")
    result.assert_outcomes(passed=3 + 4 + 1)
    result.stdout.fnmatch_lines(
        [
            "*test_t.py::test_a[[]one[]] PASSED*",
            "*test_t.py::test_b[[]one[]] PASSED*",
            "*test_t.py::test_a[[]two[]] PASSED*",
            "*test_t.py::test_b[[]two[]] PASSED*",
        ]
    )
    order = next(
        line.split("ORDER=", 1)[1] for line in result.outlines if "ORDER=" in line
    ).split(",")
    # The module's tests of one build share that build's module fixtures, torn down before the
    # next build's are set up: one VM at a time.
    assert order == ["setup one", "a one", "b one", "teardown one", "setup two", "a two", "b two"]


def test_a_failure_on_one_build_is_reported_for_that_build(pytester: pytest.Pytester) -> None:
    _two_builds(pytester, "azure-arm", "qemu")
    pytester.makepyfile(
        test_t="def test_x(image_build_name):\n    assert image_build_name != 'qemu'\n"
    )
    result = pytester.runpytest_subprocess("--image-template", "t.json", "test_t.py", "-v")
    result.assert_outcomes(passed=3 + 1, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_t.py::test_x[[]azure-arm[]] PASSED*", "*test_t.py::test_x[[]qemu[]] FAILED*"]
    )


@pytest.mark.parametrize(
    ("args", "marker", "expected"),
    [
        (("--image-only", "two"), "", "two"),
        (("--image-except", "one"), "", "two"),
        ((), "pytestmark = pytest.mark.imagebuild('t.json', builder='one')\n", "one"),
    ],
    ids=["only", "except", "marker"],
)
def test_one_selected_build_keeps_the_node_ids(
    pytester: pytest.Pytester, args: tuple[str, ...], marker: str, expected: str
) -> None:
    _two_builds(pytester)
    pytester.makepyfile(
        test_t=f"import pytest\n{marker}"
        f"def test_x(image_build_name):\n    assert image_build_name == {expected!r}\n"
    )
    result = pytester.runpytest_subprocess(
        "--image-template", "t.json", "test_t.py", "-v", *args
    )
    result.assert_outcomes(passed=1 + (2 if marker else 1) + 1)
    result.stdout.fnmatch_lines(["*test_t.py::test_x PASSED*"])
    result.stdout.no_fnmatch_line("*test_x[[]*")


def test_a_single_build_template_keeps_the_node_ids(pytester: pytest.Pytester) -> None:
    _two_builds(pytester, "only")
    pytester.makepyfile(test_t="def test_x(image):\n    assert image.build_name == 'only'\n")
    result = pytester.runpytest_subprocess("--image-template", "t.json", "test_t.py", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_t.py::test_x PASSED*"])


def test_xdist_groups_by_module_and_build(pytester: pytest.Pytester) -> None:
    _two_builds(pytester)
    pytester.makepyfile(
        test_t="def test_a(image):\n    pass\n\ndef test_b(image):\n    pass\n",
        test_u="import pytest\n"
        "pytestmark = pytest.mark.imagebuild('t.json', builder='one')\n"
        "def test_c(image):\n    pass\n",
    )
    pytester.makeconftest(
        "def pytest_collection_finish(session):\n"
        "    for item in session.items:\n"
        "        marker = item.get_closest_marker('xdist_group')\n"
        "        if marker:\n"
        "            print('GROUP', item.nodeid, marker.kwargs['name'])\n"
    )
    result = pytester.runpytest_subprocess("--image-template", "t.json", "test_t.py", "test_u.py",
                                           "--co", "-q", "-s")
    result.stdout.fnmatch_lines_random(
        [
            "GROUP test_t.py::test_a[[]one[]] test_t.py[[]one[]]",
            "GROUP test_t.py::test_b[[]one[]] test_t.py[[]one[]]",
            "GROUP test_t.py::test_a[[]two[]] test_t.py[[]two[]]",
            "GROUP test_t.py::test_b[[]two[]] test_t.py[[]two[]]",
            "GROUP test_u.py::test_c test_u.py",
        ]
    )


def test_the_user_can_still_parametrize_the_build(pytester: pytest.Pytester) -> None:
    _two_builds(pytester)
    pytester.makepyfile(
        test_t="import pytest\n"
        "@pytest.mark.parametrize('image_build_name', ['two'], indirect=True)\n"
        "def test_x(image_build_name):\n    assert image_build_name == 'two'\n"
    )
    result = pytester.runpytest_subprocess("--image-template", "t.json", "test_t.py", "-v")
    result.assert_outcomes(passed=3 + 1)


def test_host_of_each_build_is_reached(
    pytester: pytest.Pytester,
    sshd: Sshd,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    """Two null builds provisioning the same machine under different names: a test that asks
    only for ``host`` runs once per build, each against the host of its build."""
    template = null_template(sshd, tmp_path / "marker")
    first = template["builders"][0]
    template["builders"] = [dict(first, name="left"), dict(first, name="right")]
    template["provisioners"][0]["inline"] = [
        f"echo $PACKER_BUILD_NAME >> {tmp_path / 'marker'}"
    ]
    (pytester.path / "t.json").write_text(json.dumps(template))
    pytester.makepyfile(
        test_t=f"""
import pytest

pytestmark = pytest.mark.imagebuild(template="t.json")


def test_provisioned(host, vm):
    assert vm.host == "127.0.0.1"
    built = host.file({str(tmp_path / 'marker')!r}).content_string.split()
    assert sorted(built) == ["left", "right"]
"""
    )
    result = pytester.runpytest_subprocess("--image-template", "t.json", "test_t.py", "-v")
    result.assert_outcomes(passed=3 + 2)
    result.stdout.fnmatch_lines(
        ["*test_provisioned[[]left[]] PASSED*", "*test_provisioned[[]right[]] PASSED*"]
    )


def test_keep_on_failure_keeps_only_the_failing_builds_vm(
    pytester: pytest.Pytester,
    sshd: Sshd,  # noqa: F811 (the fixture)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IMAGEBUILD_STATE_DIR", str(tmp_path / "state"))
    template = null_template(sshd, tmp_path / "marker")
    first = template["builders"][0]
    template["builders"] = [dict(first, name="left"), dict(first, name="right")]
    (pytester.path / "t.json").write_text(json.dumps(template))
    pytester.makepyfile(
        test_t="import pytest\n"
        "pytestmark = pytest.mark.imagebuild(template='t.json')\n"
        "def test_x(host, image_build_name):\n"
        "    assert image_build_name == 'right'\n"
    )
    result = pytester.runpytest_subprocess(
        "--image-template", "t.json", "test_t.py", "-v", "--image-keep=on-failure"
    )
    result.assert_outcomes(passed=3 + 1, failed=1)
    kept = [line for line in result.outlines if line.startswith("kept VM")]
    assert len(kept) == 1 and "key " in kept[0], result.outlines
