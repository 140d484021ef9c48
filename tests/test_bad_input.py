"""One bad input never stops the session: each class of pathological input becomes one
problem line on its template's validate item, and the other templates still run."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_imagebuild import bounded_read
from pytest_imagebuild.errors import Problem, TemplateError
from pytest_imagebuild.recording.cassettes import CassetteError, read_cassette
from pytest_imagebuild.template import RunContext, check
from pytest_imagebuild.template.functions import base_functions
from pytest_imagebuild.template.gotemplate import Renderer, RenderError
from pytest_imagebuild.template.jsonsource import MAX_DEPTH, parse_json

QEMU = {
    "type": "qemu",
    "iso_url": "base.qcow2",
    "iso_checksum": "none",
    "disk_image": True,
    "ssh_username": "debian",
}
GOOD = json.dumps({"variables": {"x": "a"}, "builders": [QEMU]})
PROJECT = Path(__file__).parent.parent


def parse_error(text: str) -> str:
    with pytest.raises(TemplateError) as error:
        parse_json(text, "t.json")
    return str(error.value)


def test_nesting_deeper_than_the_limit_is_a_located_syntax_error():
    message = parse_error('{"a": ' + "[" * 100000 + "]" * 100000 + "}")
    assert f"nested more than {MAX_DEPTH} deep" in message
    assert "t.json:1" in message


def test_nesting_at_the_limit_validates_through_every_stage(tmp_path):
    tags: object = "leaf"
    for _ in range(MAX_DEPTH - 3):  # template, builders list and builder object are 3 levels
        tags = {"k": tags}
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"builders": [dict(QEMU, azure_tags=tags)]}))
    problems = [str(p) for p in check(path)]
    assert any("unknown configuration key: 'azure_tags'" in p for p in problems), problems


@pytest.mark.parametrize("number", ["9" * 5000, "1e999999", "-1e400", "1" + "0" * 309])
def test_a_number_beyond_float64_is_refused_as_packer_refuses_it(number):
    message = parse_error('{"min_packer_version": ' + number + "}")
    assert "json: cannot unmarshal number" in message
    assert "into Go value of type float64" in message
    assert len(message) < 1000  # the number is shown shortened, not 5000 digits


def test_a_tiny_number_underflows_to_zero_as_in_go():
    assert parse_json('{"a": 1e-999999}', "t.json")[0] == {"a": 0.0}


def test_an_error_on_a_long_line_shows_a_window_around_the_caret():
    message = parse_error('{"a": "' + "x" * 50000 + '", "b": tru}')
    shown, caret = message.splitlines()[-2:]
    assert len(shown) < 120
    assert shown[caret.index("^") : caret.index("^") + 3] == "tru"


def test_deeply_nested_parentheses_in_an_action_are_a_render_error():
    renderer = Renderer({"upper": str.upper}, {}, {})
    with pytest.raises(RenderError) as error:
        renderer.render("{{" + "(" * 50000 + '"x"' + ")" * 50000 + "}}")
    assert "nesting deeper than" in str(error.value)
    assert len(str(error.value)) < 1000
    assert renderer.render("{{" + "(" * 40 + 'upper "x"' + ")" * 40 + "}}") == "X"


def test_nested_parentheses_in_a_variable_default_name_the_variable(tmp_path):
    deep = "{{" + "(" * 50000 + "timestamp" + ")" * 50000 + "}}"
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"variables": {"stamp": deep}, "builders": [QEMU]}))
    problems = check(path)
    assert [p.path for p in problems] == ["variables.stamp"]
    assert "nesting deeper than" in problems[0].message


@pytest.fixture
def good_template(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"variables": {"x": None}, "builders": [QEMU]}))
    return path


@pytest.mark.parametrize(
    ("var_file", "fragment"),
    [
        ("/dev/zero", f"larger than {bounded_read.MAX_INPUT_BYTES} bytes"),
        ("/", "it is a directory"),
        ("missing.json", "No such file or directory"),
    ],
)
def test_unreadable_var_files_are_one_problem(tmp_path, good_template, var_file, fragment):
    problems = [str(p) for p in check(good_template, var_files=[tmp_path / var_file])]
    assert any("cannot read variable file: " in p and fragment in p for p in problems), problems


def test_a_named_pipe_nobody_writes_to_times_out(tmp_path, good_template, monkeypatch):
    monkeypatch.setattr(bounded_read, "PIPE_TIMEOUT", 0.5)
    fifo = tmp_path / "vars.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    problems = [str(p) for p in check(good_template, var_files=[fifo])]
    assert time.monotonic() - started < 30  # only a hang exceeds this
    assert any("it is a pipe and nothing arrived within 0.5 s" in p for p in problems), problems


def test_a_template_larger_than_the_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(bounded_read, "MAX_INPUT_BYTES", 1000)
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"description": "x" * 2000, "builders": [QEMU]}))
    [problem] = check(path)
    assert "cannot read template: it is larger than 1000 bytes" in str(problem)


@pytest.mark.parametrize(
    ("value", "go_kind"),
    [("5", "number"), ("true", "bool"), ("[1]", "array"), ("{}", "object")],
)
def test_var_file_values_must_be_strings_as_packer_says(tmp_path, good_template, value, go_kind):
    var_file = tmp_path / "vars.json"
    var_file.write_text('{\n  "x": ' + value + "\n}")
    problem = check(good_template, var_files=[var_file])[0]
    assert (problem.file, problem.line, problem.path) == (str(var_file), 2, "x")
    assert f"cannot unmarshal {go_kind} into Go value of type string" in problem.message


def test_null_in_a_var_file_is_an_empty_string_as_in_packer(tmp_path, good_template):
    var_file = tmp_path / "vars.json"
    var_file.write_text('{"x": null}')
    assert check(good_template, var_files=[var_file]) == []


def test_a_var_file_that_is_not_utf8_is_one_problem(tmp_path, good_template):
    var_file = tmp_path / "vars.json"
    var_file.write_bytes(b'{"x": "\xff"}')
    problem = check(good_template, var_files=[var_file])[0]
    assert "variable file is not UTF-8 text" in str(problem)


def test_problem_lines_escape_control_characters_and_stay_short():
    line = str(Problem("t.json", 3, "tags.\x1b[2J\nx", "bad value " + "y" * 10000))
    assert "\x1b" not in line and "\n" not in line
    assert "tags.\\x1b[2J\\nx" in line
    assert len(line) < 2200


def test_the_problem_heading_names_the_template_not_the_var_file(good_template):
    error = TemplateError([Problem("/dev/zero", None, "", "too large")], str(good_template))
    assert str(error).startswith(f"1 error in template {good_template}:")


def test_the_parser_is_linear_in_the_size_of_the_template():
    def template(count: int) -> str:
        variables = {f"var_{i:06d}": f"value {i}" for i in range(count)}
        return json.dumps({"variables": variables, "builders": [QEMU]}, indent=2)

    def best_time(text: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            parse_json(text, "t.json")
            times.append(time.perf_counter() - started)
        return min(times)

    small, large = template(5000), template(20000)
    # Quadratic parsing took 16x as long for 4x the keys (5.4 s for 20000 keys).
    assert best_time(large) < 8 * best_time(small) + 0.5


def test_a_1_6_megabyte_template_validates_quickly(tmp_path):
    variables = {f"var_{i:06d}": f"value number {i}" for i in range(40000)}
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"variables": variables, "builders": [QEMU]}, indent=2))
    assert path.stat().st_size > 1_500_000
    started = time.monotonic()
    assert check(path) == []
    assert time.monotonic() - started < 30  # took more than 120 s when parsing was quadratic


BAD_TEMPLATES = {
    "deep": '{"builders": ' + "[" * 100000 + "]" * 100000 + "}",
    "digits": '{"variables": {"x": ' + "9" * 5000 + '}, "builders": []}',
    "infinity": '{"min_packer_version": 1e999999, "builders": []}',
    "parens": json.dumps(
        {"variables": {"x": "{{" + "(" * 50000 + "timestamp" + ")" * 50000 + "}}"},
         "builders": [QEMU]}
    ),
    "binary": "\x00\xff{",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(BAD_TEMPLATES))
def test_a_bad_template_fails_its_own_validate_item_only(pytester, name):
    (pytester.path / "good.json").write_text(GOOD)
    bad = pytester.path / "bad.json"
    if name == "binary":
        bad.write_bytes(BAD_TEMPLATES[name].encode("latin-1"))
    else:
        bad.write_text(BAD_TEMPLATES[name])
    result = pytester.runpytest(
        "--image-template", "good.json", "--image-template", "bad.json", "-k", "validate"
    )
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "FAILED bad.json::validate" in output
    assert "Traceback" not in output and "Error:" not in output.replace("JSON syntax error", "")
    assert "error during collection" not in output


def test_dev_zero_as_var_file_fails_validate_items_without_stopping(pytester):
    (pytester.path / "good.json").write_text(GOOD)
    result = pytester.runpytest("--image-template", "good.json", "--image-var-file", "/dev/zero")
    result.stdout.fnmatch_lines(["*/dev/zero: cannot read variable file: it is larger than*"])
    assert "MemoryError" not in result.stdout.str()
    result.assert_outcomes(failed=2)  # validate, and the build that needs the variables


def run_in_bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT), *sys.path])))
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_process_substitution_var_file_works_like_packer(tmp_path, good_template):
    pytest_cmd = f"{sys.executable} -m pytest -p no:cacheprovider -q --image-template t.json"
    given = run_in_bash(pytest_cmd + " -k validate --image-var-file <(echo '{\"x\": \"1\"}')",
                        tmp_path)
    assert "1 passed" in given.stdout, given.stdout + given.stderr
    missing = run_in_bash(pytest_cmd + " -k validate --image-var-file <(echo '{}')", tmp_path)
    assert "required variable not set: x" in missing.stdout, missing.stdout + missing.stderr


@pytest.mark.parametrize("under_a_file", [False, True])
def test_a_state_dir_that_is_a_file_is_a_usage_error(pytester, monkeypatch, under_a_file):
    (pytester.path / "good.json").write_text(GOOD)
    state = pytester.path / "state"
    state.write_text("")
    given = state / "sub" if under_a_file else state
    monkeypatch.setenv("IMAGEBUILD_STATE_DIR", str(given))
    result = pytester.runpytest_subprocess("--image-template", "good.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert f"IMAGEBUILD_STATE_DIR={given}: run journals cannot be kept there" in output
    assert "Traceback" not in output
    assert len(output.splitlines()) < 10


def test_a_wrong_type_is_reported_and_never_reaches_the_builder_rules(tmp_path):
    path = tmp_path / "t.json"
    builder = {"type": "azure-arm", "azure_tag": True, "plan_info": "x", "azure_tags": 5}
    path.write_text(json.dumps({"builders": [builder]}))
    problems = [str(p) for p in check(path)]
    assert any("'azure_tag' expected a list of objects" in p for p in problems), problems


def test_variables_doubling_each_other_stop_at_the_render_limit(tmp_path):
    variables = {"v0": "x" * 16}
    for i in range(1, 40):
        variables[f"v{i}"] = f"{{{{user `v{i - 1}`}}}}{{{{user `v{i - 1}`}}}}"
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"variables": variables, "builders": [QEMU]}))
    problems = check(path)
    assert any("render to more than" in p.message for p in problems), problems


def test_replace_all_refuses_a_result_that_grows_without_bound():
    big = '"' + "y" * 1000 + '"'
    action = f'{{{{ replace_all "" {big} (replace_all "" {big} (replace_all "" {big} {big})) }}}}'
    renderer = Renderer(base_functions(RunContext.create(), Path(".")), {}, {})
    with pytest.raises(RenderError, match="would grow by more than"):
        renderer.render(action)


@pytest.mark.parametrize(
    "text",
    ["!!timestamp 2020-99-99version: 1\n", "a: " + "9" * 5000, "[" * 100000],
)
def test_a_cassette_pyyaml_cannot_build_is_a_cassette_error(tmp_path, text):
    cassette = tmp_path / "build.yaml"
    cassette.write_text(text)
    with pytest.raises(CassetteError, match=r"this cassette cannot be replayed: .*invalid YAML"):
        read_cassette(cassette)



@pytest.fixture
def hcl2_template(tmp_path):
    path = tmp_path / "t.pkr.hcl"
    path.write_text(
        'variable "x" {\n  default = ""\n}\n'
        'source "null" "a" {\n  communicator = "none"\n}\n'
        'build {\n  sources = ["source.null.a"]\n}\n'
    )
    return path


@pytest.mark.parametrize(
    ("var_file", "fragment"),
    [
        ("/dev/zero", f"larger than {bounded_read.MAX_INPUT_BYTES} bytes"),
        ("/", "it is a directory"),
        ("missing.pkrvars.hcl", "No such file or directory"),
        ("fifo.pkrvars.hcl", "it is a pipe and nothing arrived within 0.5 s"),
        ("deep.json", "nested more than 100 deep"),
    ],
)
def test_hostile_var_files_of_an_hcl2_template_are_one_problem(
    tmp_path, hcl2_template, monkeypatch, var_file, fragment
):
    """The HCL2 front end reads variable files as the JSON one does: bounded, with a deadline."""
    monkeypatch.setattr(bounded_read, "PIPE_TIMEOUT", 0.5)
    os.mkfifo(tmp_path / "fifo.pkrvars.hcl")
    (tmp_path / "deep.json").write_text('{"x": ' + "[" * 5000 + "]" * 5000 + "}")
    started = time.monotonic()
    problems = [str(p) for p in check(hcl2_template, var_files=[tmp_path / var_file])]
    assert time.monotonic() - started < 30  # only a hang exceeds this
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize("function", ["file", "filebase64", "templatefile"])
def test_hcl2_file_functions_read_bounded(tmp_path, function):
    args = '"/dev/zero", {}' if function == "templatefile" else '"/dev/zero"'
    path = tmp_path / "t.pkr.hcl"
    path.write_text(
        f"locals {{\n  big = {function}({args})\n}}\n"
        'source "null" "a" {\n  communicator = "none"\n}\n'
        'build {\n  sources = ["source.null.a"]\n'
        '  provisioner "shell-local" {\n    inline = [local.big]\n  }\n}\n'
    )
    problems = [str(p) for p in check(path)]
    assert any("cannot read /dev/zero: it is larger than" in p for p in problems), problems


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("ssh_private_key_file", "/dev/zero", "Error setting up SSH config: it is larger than"),
        ("iso_checksum", "file:/dev/zero", "Error reading checksum file: it is larger than"),
    ],
)
def test_files_a_template_names_are_read_bounded_while_validating(tmp_path, key, value, fragment):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"builders": [{**QEMU, key: value}]}))
    problems = [str(p) for p in check(path)]
    assert any(fragment in p for p in problems), problems


def test_a_template_folders_other_files_are_not_read_for_its_build_identity(tmp_path):
    """A folder configuration's identity covers its configuration files only: an ISO or a
    named pipe beside them is neither read into memory nor waited on."""
    from pytest_imagebuild.store import content_key

    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "build.pkr.hcl").write_text('source "null" "a" {\n  communicator = "none"\n}\n')
    os.mkfifo(folder / "not-a-template.fifo")
    first = content_key(folder, "a")
    (folder / "notes.txt").write_text("not part of the configuration")
    assert content_key(folder, "a") == first
    (folder / "build.pkr.hcl").write_text('source "null" "a" {\n  communicator = "ssh"\n}\n')
    assert content_key(folder, "a") != first
