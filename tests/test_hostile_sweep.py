"""Hostile inputs found by a sweep of every entry point that earlier bad-input tests missed:
each gets one clear error (file, key, reason), never a traceback, a hang or a silent no-op."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from pytest_imagebuild.errors import Problem, printable
from pytest_imagebuild.template import check

REPO = Path(__file__).resolve().parent.parent
NULL_TEMPLATE = {
    "builders": [{"type": "null", "communicator": "none"}],
    "provisioners": [{"type": "shell-local", "inline": ["true"]}],
}
LONG_X = 'join("", [for i in range(100000): "x"])'
LONG_Y = '"' + "y" * 46 + '"'
HCL2_TAIL = 'source "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n'


def hcl2_problems(tmp_path: Path, expression: str) -> list[str]:
    path = tmp_path / "t.pkr.hcl"
    path.write_text(f"locals {{ a = {expression} }}\n{HCL2_TAIL}", encoding="utf-8")
    started = time.monotonic()
    problems = [str(problem) for problem in check(path)]
    assert time.monotonic() - started < 30, "a hostile expression must not take this long"
    return problems


# -- HCL2 expressions that exhausted memory or backtracked for ever ----------------------------
@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("range(100000000)", "100000000 elements, more than 100000"),
        ("range(1e300)", "more than 100000"),
        ("range(0, 10, 0)", "step of range() must not be zero"),
        ('indent(99999999999, "a\\nb")', "more than 4194304"),
        ('format("%999999999d", 1)', "more than 4194304"),
        (
            f'replace({LONG_X}, "", {LONG_Y})',
            "more than 4194304",
        ),
        (
            '"%{for i in range(100000)}${join("", [for j in range(1000): "'
            + "x" * 22
            + '"])}%{endfor}"',
            "more than 4194304",
        ),
        (
            "length([for a in range(100000): [for b in range(100000): 0]])",
            "more than 2000000 steps",
        ),
    ],
)
def test_an_hcl2_expression_too_costly_to_compute_is_a_problem_line(tmp_path, expression, fragment):
    problems = hcl2_problems(tmp_path, expression)
    assert len(problems) == 1 and fragment in problems[0], problems
    assert "t.pkr.hcl:1:" in problems[0]


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (
            'regex("(((((((((a*)*)*)*)*)*)*)*)*)*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")',
            "pattern did not match",
        ),
        ('regex_replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "(a+)+b", "x")', None),
        ('replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "/(a{1,})+b/", "x")', None),
    ],
)
def test_a_regular_expression_with_nested_repetition_ends_at_once(tmp_path, call, problem):
    """Python's `re` backtracks for ever on these; Go's engine (Packer's) does not. The
    `regex` engine used here ends them at once, and any match is cut off after a time limit."""
    started = time.monotonic()
    problems = hcl2_problems(tmp_path, call)
    assert time.monotonic() - started < 60  # only a hang exceeds this
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_a_match_that_outlasts_the_time_limit_is_one_problem(tmp_path, monkeypatch):
    from pytest_imagebuild.template.hcl2 import limits

    class Slow:
        def search(self, text, timeout):
            raise TimeoutError("regex timed out")

    monkeypatch.setattr(limits, "compile_pattern", lambda pattern: Slow())
    (problem,) = hcl2_problems(tmp_path, 'regex("(x+x+)+y", "xxxx")')
    assert "took more than 2 s" in problem and "simplify the pattern" in problem


@pytest.mark.parametrize(
    ("expression", "ok"),
    [
        ('regex("(?P<name>[a-z]+)-(\\\\d+)", "web-12")', True),
        ('regex("(ab)+", "ababx")', True),
        ('regex("^([0-9]+\\\\.)+[0-9]+$", "1.22.3")', True),  # a version: a repeated group
        ("distinct(concat(range(50000), range(50000)))", True),
        ('indent(2, "a\\nb")', True),
    ],
)
def test_ordinary_expressions_stay_valid_under_the_limits(tmp_path, expression, ok):
    assert (hcl2_problems(tmp_path, expression) == []) is ok


def test_a_lone_surrogate_in_a_key_prints_escaped(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(
        '{"builders":[{"type":"null","communicator":"none","\\udfff":"x"}]}', encoding="utf-8"
    )
    (problem,) = check(path)
    shown = str(problem)
    shown.encode("utf-8")  # a lone surrogate would raise UnicodeEncodeError on any terminal
    assert "\\udfff" in shown
    assert printable("a\ud800b") == "a\\ud800b"
    assert str(Problem("f", 1, "k\udc80", "m")).encode("utf-8")


# -- command line and ini keys ----------------------------------------------------------------
@pytest.fixture
def good(pytester: pytest.Pytester) -> Path:
    path = pytester.path / "good.json"
    path.write_text(json.dumps(NULL_TEMPLATE))
    return path


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text and "INTERNALERROR" not in text, text
    return result


def test_a_misspelt_boolean_ini_key_is_a_usage_error_not_an_internal_error(pytester, good):
    result = run(
        pytester, "--image-template", "good.json", "-o", "image_reuse=maybe", "-k", "validate"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*image_reuse = 'maybe' is not a boolean*"])


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (
            lambda p: p.joinpath("t.txt").write_text(json.dumps(NULL_TEMPLATE)),
            "is not a template: its name must end in .json",
        ),
        (lambda p: os.mkfifo(p / "t.json"), "is not a regular file"),
        (lambda p: (p / "t.json").mkdir(), "is a folder without .pkr.hcl"),
        (lambda p: os.symlink("t.json", p / "t.json"), "broken symbolic link (or a loop"),
        (lambda p: None, "the path is empty"),
    ],
    ids=["other-suffix", "fifo", "folder", "symlink-loop", "empty"],
)
def test_a_template_path_that_cannot_be_a_template_says_why(pytester, make, fragment):
    make(pytester.path)
    name = (
        ""
        if fragment == "the path is empty"
        else next(n for n in ("t.txt", "t.json") if os.path.lexists(pytester.path / n))
    )
    result = run(pytester, "--image-template", name, "-k", "validate")
    # Before: "no tests ran" with exit code 5 for t.txt, "no such template file" for the rest.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--image-template*{fragment}*"])


# -- cassettes --------------------------------------------------------------------------------
@pytest.mark.parametrize("content", ["", "- a: [\n", "[1, 2]\n", "interactions: 5\n"])
def test_a_damaged_build_cassette_fails_the_build_item_even_with_k_build(
    pytester, monkeypatch, content
):
    """A damaged cassette used to make the build item vanish at collection: `-k build` ran
    nothing and said nothing. Now the build is collected and fails naming the cassette."""
    for name in (
        "ARM_CLIENT_SECRET",
        "AZURE_CLIENT_SECRET",
        "ARM_USE_AZURE_CLI_AUTH",
        "ARM_USE_MSI",
    ):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(REPO / "examples", pytester.path / "examples")
    shutil.copytree(REPO / "cassettes" / "examples", pytester.path / "cassettes" / "examples")
    (pytester.path / "pytest.ini").write_text("[pytest]\n")
    build = pytester.path / "cassettes/examples/webserver/azure-arm/build.yaml"
    build.write_text(content)
    result = run(pytester, "--image-template", "examples/webserver.json", "-k", "build")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*build.yaml: this cassette cannot be replayed*", "*1 failed*"], consecutive=False
    )


# -- markers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ("template=5", "imagebuild(template=5): template must be a path"),
        ("5, 6", "imagebuild(template=5): template must be a path"),
        ("template=['good.json']", "template must be a path"),
        ("template='good.json\\x00'", "template must be a path"),
        ("template='good.json', builder=5", "imagebuild(builder=5): builder must be a build name"),
    ],
)
def test_a_marker_of_the_wrong_type_errors_its_test_and_the_session_goes_on(
    pytester, good, arguments, fragment
):
    """Before: a TypeError (or ValueError) traceback at collection, "Interrupted: 1 error
    during collection", and no other test ran."""
    pytester.makepyfile(
        test_marked=f"import pytest\npytestmark = pytest.mark.imagebuild({arguments})\n"
        "def test_x(image):\n    pass\n",
        test_other="def test_ok():\n    pass\n",
    )
    result = run(pytester, "--image-template", "good.json", "test_marked.py", "test_other.py")
    result.assert_outcomes(passed=3, errors=1)  # validate, build, test_ok
    assert fragment in result.stdout.str()


def test_a_list_doubled_through_locals_is_refused_before_it_is_written_out(tmp_path):
    """Forty doublings cost nothing as shared Python lists and hang anything that walks them."""
    doublings = "\n".join(f"  a{i} = [local.a{i - 1}, local.a{i - 1}]" for i in range(1, 41))
    path = tmp_path / "t.pkr.hcl"
    path.write_text(
        f'locals {{\n  a0 = "x"\n{doublings}\n}}\n'
        'source "null" "a" {\n  communicator = "none"\n}\n'
        'build {\n  sources = ["source.null.a"]\n'
        '  provisioner "shell-local" {\n    inline = [jsonencode(local.a40)]\n  }\n}\n'
    )
    started = time.monotonic()
    problems = [str(problem) for problem in check(path)]
    assert time.monotonic() - started < 30  # only a hang exceeds this
    assert any(
        "t.pkr.hcl:21:" in p and "more than 1000000 elements written out" in p for p in problems
    ), problems
