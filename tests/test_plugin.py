"""The plugin as users meet it: options, items, output, fixtures."""

import json
import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
QEMU = {
    "type": "qemu",
    "iso_url": "base.qcow2",
    "iso_checksum": "none",
    "disk_image": True,
    "ssh_username": "debian",
}


@pytest.fixture
def templates(pytester):
    def write(name, data):
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)
        return path

    return write


def test_template_becomes_validate_and_one_build_item_per_builder(pytester, templates):
    templates("t.json", {"builders": [dict(QEMU, name="a"), dict(QEMU, name="b")]})
    result = pytester.runpytest("--image-template", "t.json", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["t.json::validate", "t.json::build[[]a[]]", "t.json::build[[]b[]]"]
    )


def test_template_with_explicit_test_files_is_collected_too(pytester, templates):
    templates("t.json", {"builders": [dict(QEMU, name="a")]})
    pytester.makepyfile(test_other="def test_x():\n    pass\n")
    result = pytester.runpytest("--image-template", "t.json", "test_other.py", "--co", "-q")
    result.stdout.fnmatch_lines(["t.json::validate", "t.json::build[[]a[]]", "*test_x"])


def test_a_copy_of_a_template_runs_its_originals_smoke_tests(pytester, templates):
    templates("orig/t.json", {"builders": [dict(QEMU, name="a")]})
    templates("copy/t.json", {"builders": [dict(QEMU, name="b")]})
    pytester.makepyfile(
        **{
            "orig/test_t": "def test_which(image_template, image_build_name):\n"
            "    assert image_template.path.parent.name == 'copy'\n"
            "    assert image_build_name == 'b'\n"
        }
    )
    result = pytester.runpytest("--image-template", "copy/t.json", "orig/test_t.py", "-k", "which")
    result.assert_outcomes(passed=1)


def test_image_only_and_except_select_builds(pytester, templates):
    templates("t.json", {"builders": [dict(QEMU, name="a"), dict(QEMU, name="b")]})
    only = pytester.runpytest(
        "--image-template", "t.json", "--image-only", "b", "--collect-only", "-q"
    )
    assert "build[b]" in only.stdout.str() and "build[a]" not in only.stdout.str()
    excl = pytester.runpytest(
        "--image-template", "t.json", "--image-except", "b", "--collect-only", "-q"
    )
    assert "build[a]" in excl.stdout.str() and "build[b]" not in excl.stdout.str()


def test_globs_and_ini_option(pytester, templates):
    templates("images/one.json", {"builders": [QEMU]})
    templates("images/two.json", {"builders": [QEMU]})
    result = pytester.runpytest("--image-template", "images/*.json", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*one.json::validate", "*two.json::validate"])
    pytester.makeini("[pytest]\nimage_templates = images/one.json\n")
    result = pytester.runpytest("images/one.json", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*one.json::validate"])


def test_missing_template_is_a_usage_error(pytester):
    result = pytester.runpytest("--image-template", "nope/*.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--image-template nope/[*].json: no such template file*"])


def test_failing_validate_prints_the_paragraph_not_a_traceback(pytester, templates):
    templates("bad.json", '{ "builders": [ { "type": "azure-arm",\n  \u201cclient_id": "x" } ] }')
    result = pytester.runpytest("--image-template", "bad.json")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "typographic quote" in output and "bad.json:2" in output
    assert "Traceback" not in output and "raise " not in output


def test_all_problems_listed_in_the_failure(pytester, templates):
    templates("t.json", {"builders": [dict(QEMU, vm_szie="x", format="vmdk")]})
    result = pytester.runpytest("--image-template", "t.json", "-k", "validate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*2 errors in template*t.json:*",
            "*builders[[]0[]].vm_szie: unknown configuration key*",
            "*builders[[]0[]].format: invalid format*",
        ]
    )


def test_build_item_for_an_unimplemented_builder_fails_clearly(pytester, templates):
    templates("t.json", {"builders": [{"type": "docker", "image": "debian"}]})
    result = pytester.runpytest("--image-template", "t.json")
    result.assert_outcomes(passed=1, failed=1, warnings=1)
    result.stdout.fnmatch_lines(["*builder type 'docker' is not available in pytest-imagebuild*"])
    result.stdout.no_fnmatch_line("*valid for Packer*")


def test_variables_from_the_command_line(pytester, templates):
    templates("t.json", {"variables": {"req": None}, "builders": [QEMU]})
    failing = pytester.runpytest("--image-template", "t.json", "-k", "validate")
    failing.stdout.fnmatch_lines(["*required variable not set: req*"])
    (pytester.path / "vars.json").write_text('{"req": "from-file"}')
    for args in (["--image-var", "req=x"], ["--image-var-file", "vars.json"]):
        result = pytester.runpytest("--image-template", "t.json", "-k", "validate", *args)
        result.assert_outcomes(passed=1)


def test_companion_tests_run_with_only_the_template(pytester, templates):
    templates("tiny.json", {"builders": [QEMU]})
    pytester.makepyfile(
        test_tiny="""
        def test_template_is_parsed(image_template):
            assert image_template.build_names == ["qemu"]
    """
    )
    pytester.makepyfile(test_unrelated="def test_other(): assert False")
    pytester.makeini("[pytest]\ntestpaths = .\n")
    result = pytester.runpytest("--image-template", "tiny.json", "-k", "not build")
    result.assert_outcomes(passed=2)


def test_marker_names_the_template(pytester, templates):
    templates("sub/t.json", {"builders": [dict(QEMU, name="x")]})
    pytester.makepyfile(
        test_marked="""
        import pytest

        pytestmark = pytest.mark.imagebuild(template="sub/t.json", builder="x")

        def test_marked(image_template, image_build_name):
            assert image_template.path.name == "t.json"
            assert image_build_name == "x"
    """
    )
    pytester.runpytest("test_marked.py").assert_outcomes(passed=1)


def test_plugin_can_be_disabled(pytester, templates):
    result = pytester.runpytest("-p", "no:imagebuild", "--image-template", "t.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --image-template*"])


def test_webserver_example_validates(pytester):
    shutil.copytree(EXAMPLES, pytester.path / "examples")
    result = pytester.runpytest("--image-template", "examples/webserver.json", "-k", "validate")
    result.assert_outcomes(passed=1)
