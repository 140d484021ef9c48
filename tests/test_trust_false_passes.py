"""False passes: a template must never pass on another template's build or recording.

Two templates with the same file name in different folders once shared an xdist build (keyed
by `<stem>-<build>`) and a cassette folder (`cassettes/<stem>/`): a changed copy passed on its
original's image. These run replayed, offline, with no credentials.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from trust_project import SHIPPED, needs_cassettes, project_with_copy, run_offline

from pytest_imagebuild.recording.cassettes import cassette_path


@needs_cassettes
def test_a_changed_copy_with_the_same_name_fails_beside_its_original_under_xdist(
    tmp_path: Path,
) -> None:
    """Both templates have the recording (the copy's folder holds the original's cassettes),
    so only the build sharing can make the copy pass: it must replay its own requests."""
    project = project_with_copy(tmp_path, {"vm_size": "Standard_D4s_v3"})
    for folder in ("examples", "other"):
        shutil.copytree(SHIPPED, project / "cassettes" / folder / "webserver")
    code, output = run_offline(
        project,
        "-n",
        "2",
        "-k",
        "build",
        "--image-template",
        "examples/webserver.json",
        "--image-template",
        "other/webserver.json",
    )
    assert code == 1, output
    assert "PASSED examples/webserver.json::build[azure-arm]" in output
    assert "FAILED other/webserver.json::build[azure-arm]" in output
    assert "not in the cassette" in output and "Standard_D4s_v3" in output
    assert "1 failed, 1 passed" in output


@needs_cassettes
def test_a_template_never_replays_the_cassettes_of_another_with_the_same_name(
    tmp_path: Path,
) -> None:
    """An identical copy in another folder has no recording of its own: it fails, naming the
    cassette it looked for, instead of passing on its namesake's."""
    project = project_with_copy(tmp_path, {})
    shutil.copytree(SHIPPED, project / "cassettes" / "examples" / "webserver")
    code, output = run_offline(project, "-k", "build", "--image-template", "other/webserver.json")
    assert code == 1, output
    assert "no cassette to replay" in output
    assert str(Path("cassettes") / "other" / "webserver" / "azure-arm" / "build.yaml") in output
    code, output = run_offline(
        project, "-k", "build", "--image-template", "examples/webserver.json"
    )
    assert code == 0, output


def test_cassette_folders_mirror_the_template_path_below_the_rootdir(tmp_path: Path) -> None:
    root, cassettes = tmp_path / "repo", tmp_path / "repo" / "cassettes"
    json_form = cassette_path(cassettes, root / "examples" / "web.json", "b", "build", root)
    hcl_form = cassette_path(cassettes, root / "examples" / "web.pkr.hcl", "b", "build", root)
    other = cassette_path(cassettes, root / "other" / "web.json", "b", "build", root)
    assert json_form == hcl_form == cassettes.resolve() / "examples" / "web" / "b" / "build.yaml"
    assert other == cassettes.resolve() / "other" / "web" / "b" / "build.yaml"
    outside_a = cassette_path(cassettes, tmp_path / "a" / "web.json", "b", "build", root)
    outside_b = cassette_path(cassettes, tmp_path / "b" / "web.json", "b", "build", root)
    assert outside_a != outside_b
    for path in (outside_a, outside_b):
        assert path.parent.parent.parent == cassettes.resolve() / "_outside"
        assert path.parent.parent.name.startswith("web-")


def _two_builds(pytester: pytest.Pytester) -> None:
    builders = [{"type": "null", "name": n, "communicator": "none"} for n in ("one", "two")]
    (pytester.path / "t.json").write_text(json.dumps({"builders": builders}))


def test_image_only_naming_no_build_is_a_usage_error_listing_the_builds(
    pytester: pytest.Pytester,
) -> None:
    _two_builds(pytester)
    result = pytester.runpytest_inprocess("--image-template", "t.json", "--image-only", "oen")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--image-only oen: no build of that name in t.json; builds: one, two" in (
        result.stderr.str()
    )
    result = pytester.runpytest_inprocess("--image-template", "t.json", "--image-only", "two")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("key", "value", "choices"),
    [
        ("image_on_error", "clenaup", "cleanup, abort"),
        ("image_record_mode", "replay", "none, once, new_episodes, all, rewrite"),
    ],
)
def test_a_bad_ini_choice_is_a_usage_error_listing_the_choices(
    pytester: pytest.Pytester, key: str, value: str, choices: str
) -> None:
    _two_builds(pytester)
    result = pytester.runpytest_inprocess("--image-template", "t.json", "-o", f"{key}={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert repr(value) in result.stderr.str() and choices in result.stderr.str()


def test_two_differing_imagebuild_markers_are_an_error_naming_both(
    pytester: pytest.Pytester,
) -> None:
    _two_builds(pytester)
    pytester.makepyfile(
        test_t="import pytest\n"
        "pytestmark = pytest.mark.imagebuild('t.json', builder='one')\n"
        "@pytest.mark.imagebuild('t.json', builder='two')\n"
        "def test_x(image_build_name):\n"
        "    assert image_build_name\n"
    )
    result = pytester.runpytest_inprocess("--image-template", "t.json", "test_t.py", "-k", "test_x")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*two imagebuild markers apply, imagebuild('t.json', builder='two') and "
         "imagebuild('t.json', builder='one')*"]
    )
