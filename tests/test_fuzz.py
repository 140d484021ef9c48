"""Fuzzing the inputs a user hands the plugin: templates, variable files and cassettes.

Whatever the input, the answer is problem lines naming the file (or a clear ImagebuildError):
never a traceback, never a hang, nothing written beside the inputs, and the other templates of
the session still validate. Most examples call the library directly (fast); a few run whole
pytest sessions. Run longer with ``--fuzz-examples=N`` or ``IMAGEBUILD_FUZZ_EXAMPLES=N``.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_imagebuild.catalogue import catalogue
from pytest_imagebuild.errors import Problem, TemplateError
from pytest_imagebuild.recording import CassetteRecorder, RecordingSettings
from pytest_imagebuild.recording.cassettes import CassetteError, read_cassette
from pytest_imagebuild.recording.placeholders import SecretBook
from pytest_imagebuild.template import RunContext, check, fields, load_template
from pytest_imagebuild.template.functions import NETWORK_FUNCTIONS, base_functions
from pytest_imagebuild.template.gotemplate import Renderer, RenderError

EXAMPLES = int(os.environ.get("IMAGEBUILD_FUZZ_EXAMPLES") or 0)
PROJECT = Path(__file__).parent.parent
EXAMPLE_TEMPLATES = sorted((PROJECT / "examples").glob("*.json"))
QEMU = {
    "type": "qemu",
    "iso_url": "base.qcow2",
    "iso_checksum": "none",
    "disk_image": True,
    "ssh_username": "debian",
}
GOOD = json.dumps({"variables": {"x": "a"}, "builders": [QEMU]})
HANG_SECONDS = 60  # per example; only a real hang takes this long

# Builder keys come from each provider's own table, through the catalogue.
BUILDER_FIELDS = {
    name: catalogue().builder_table(name, "fields", {}) for name in sorted(catalogue().builders)
}


def fuzz(default: int) -> settings:
    """Hypothesis settings: `default` examples unless a longer run was asked for."""
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        database=None,  # nothing written to the working directory
        suppress_health_check=list(HealthCheck),
    )


class Hang(BaseException):
    """Not an Exception, so no `except Exception` in the plugin can swallow it."""


@contextmanager
def no_hang(seconds: float = HANG_SECONDS) -> Iterator[None]:
    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@contextmanager
def workdir(root: Path) -> Iterator[Path]:
    """A fresh directory to work in; whatever the plugin writes there is a failure."""
    folder = Path(tempfile.mkdtemp(dir=root))
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(previous)


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def assert_one_paragraph_each(problems: list[Problem], files: set[str]) -> None:
    assert all(isinstance(p, Problem) for p in problems)
    for problem in problems:
        assert problem.file in files, problem
        text = str(problem)
        # A JSON syntax error adds the offending line and a caret: three lines at most.
        assert len(text.splitlines()) <= 3, text
        assert len(text) < 3000, text
        assert not any(ord(c) < 32 and c != "\n" for c in text), text


def check_text(root: Path, template: str | bytes, var_file: str | bytes | None = None) -> None:
    """Validate a template (and var file) given as text, as `packer validate` would."""
    with workdir(root) as folder:
        path = folder / "t.json"
        path.write_bytes(template.encode("utf-8", "surrogatepass") if isinstance(template, str)
                         else template)
        var_files = []
        if var_file is not None:
            var_path = folder / "vars.json"
            var_path.write_bytes(
                var_file.encode("utf-8", "surrogatepass") if isinstance(var_file, str) else var_file
            )
            var_files.append(var_path)
        before = listing(folder)
        with no_hang():
            problems = check(path, var_files=var_files)
            try:
                load_template(path, var_files=var_files)
            except TemplateError as error:
                assert error.problems
        assert_one_paragraph_each(problems, {str(path), *(str(f) for f in var_files)})
        assert listing(folder) == before


# --- strategies ------------------------------------------------------------------------------

JSON_PIECES = [
    "{", "}", "[", "]", '"', ":", ",", " ", "\n", "\t", "\r", "\\", "\\u", "\\u00e9", "0", "-1",
    "1.5", "1e999", "-1e-999", "1e", "tru", "true", "false", "null", "NaN", "\ufeff", "\u201c",
    "\u201d", "\x00", "\x1b[2J", "\ud800", "é", "𝄞", "{{", "}}", "`", '"builders"',
    '"variables"', '"type"', '"qemu"', '"azure-arm"', '"provisioners"', '"post-processors"',
    '"sensitive-variables"', '"min_packer_version"', '"only"', '"override"', "{{user `x`}}",
]
json_ish_text = st.lists(
    st.one_of(st.sampled_from(JSON_PIECES), st.characters()), max_size=120
).map("".join)

FUNCTION_NAMES = sorted(
    {*base_functions(RunContext.create(), Path(".")), *NETWORK_FUNCTIONS}
    | {"user", "env", "build", "build_name", "build_type", "clean_resource_name", "if", "end",
       "nope", "template"}
)
ACTION_PIECES = [
    *FUNCTION_NAMES, " ", "|", "(", ")", "`x`", "`", '"a,b"', '"', '"\\n"', "0", "-1", "5",
    "1.5", "99999999999999999999", ".", ".Path", ".Vars", "- ", " -", "/*", "*/", "{{", "}}",
]
action_text = st.lists(st.sampled_from(ACTION_PIECES), max_size=12).map("".join)
template_string = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, b, c: f"{a}{{{{{b}}}}}{c}", st.text(max_size=5), action_text,
              st.text(max_size=5)),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    template_string,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def section(kinds: dict[str, dict[str, str]]) -> st.SearchStrategy[dict[str, Any]]:
    """One builder, provisioner or post-processor: a known type, known keys, any values."""

    def entry(kind: str) -> st.SearchStrategy[dict[str, Any]]:
        keys = sorted({*kinds.get(kind, {}), "type", "name", "only", "except", "override"})
        return st.dictionaries(st.sampled_from(keys), json_values, max_size=6).map(
            lambda config: {**config, "type": config.get("type", kind)}
        )

    return st.sampled_from(sorted(kinds)).flatmap(entry)


templates = st.fixed_dictionaries(
    {},
    optional={
        "variables": st.dictionaries(st.text(max_size=6), json_values, max_size=4),
        "sensitive-variables": json_values,
        "builders": st.lists(section(BUILDER_FIELDS), max_size=2) | json_values,
        "provisioners": st.lists(section(fields.PROVISIONER_FIELDS), max_size=2) | json_values,
        "post-processors": st.lists(section(fields.POST_PROCESSOR_FIELDS), max_size=2)
        | json_values,
        "error-cleanup-provisioner": section(fields.PROVISIONER_FIELDS) | json_values,
        "min_packer_version": json_values,
        "description": json_values,
        "_comment": json_values,
        "unknown": json_values,
    },
)


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    """A shipped example, cut short or with pieces inserted, deleted or repeated."""
    text = draw(st.sampled_from(EXAMPLE_TEMPLATES)).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["cut", "insert", "delete", "repeat", "bom"]))
        if operation == "cut":
            text = text[:at]
        elif operation == "insert":
            text = text[:at] + draw(st.sampled_from(JSON_PIECES)) + text[at:]
        elif operation == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif operation == "repeat":
            text = text[:at] + text[at : at + 30] * draw(st.integers(2, 50)) + text[at:]
        else:
            text = "\ufeff" + text
    return text


@st.composite
def pathological(draw: st.DrawFn) -> str:
    """Deep nesting, huge numbers and deep parentheses, the inputs that once crashed."""
    kind = draw(st.sampled_from(["nesting", "number", "parens"]))
    if kind == "nesting":
        depth = draw(st.integers(90, 3000))
        opens = "".join(draw(st.sampled_from(['[', '{"k":'])) for _ in range(min(depth, 50)))
        opens = opens * (depth // 50 + 1)
        return '{"builders": [' + opens[: depth * 5] + draw(st.sampled_from(["1", "", "]"]))
    if kind == "number":
        digits = "9" * draw(st.integers(300, 6000))
        number = draw(st.sampled_from([digits, f"1e{digits[:7]}", f"-{digits}.5", f"0.{digits}"]))
        return '{"variables": {"x": ' + number + '}, "builders": [{"type": "null"}]}'
    depth = draw(st.integers(50, 20000))
    action = "{{" + "(" * depth + draw(action_text) + ")" * depth + "}}"
    return json.dumps({"variables": {"x": action}, "builders": [QEMU]})


# --- templates and variable files, through the library -----------------------------------------


@fuzz(150)
@given(text=json_ish_text)
def test_json_ish_text_is_problems_not_a_crash(fuzz_root: Path, text: str) -> None:
    check_text(fuzz_root, text)


@fuzz(150)
@given(data=templates)
def test_wrong_types_for_known_keys_are_problems(fuzz_root: Path, data: dict[str, Any]) -> None:
    check_text(fuzz_root, json.dumps(data))


@fuzz(100)
@given(text=mutated_examples())
def test_damaged_examples_are_problems(fuzz_root: Path, text: str) -> None:
    check_text(fuzz_root, text)


@fuzz(25)
@given(text=pathological())
def test_pathological_templates_are_problems(fuzz_root: Path, text: str) -> None:
    check_text(fuzz_root, text)


@fuzz(100)
@given(var_file=st.one_of(json_ish_text, json_values.map(json.dumps), st.binary(max_size=50)))
def test_bad_var_files_are_problems(fuzz_root: Path, var_file: str | bytes) -> None:
    check_text(fuzz_root, GOOD, var_file)


@fuzz(150)
@given(action=action_text)
def test_template_functions_with_garbage_args_are_render_errors(action: str) -> None:
    functions = base_functions(RunContext.create(), Path("."))
    renderer = Renderer({**functions, "user": lambda name: str(name)}, {}, NETWORK_FUNCTIONS)
    with no_hang():
        try:
            assert isinstance(renderer.render("{{" + action + "}}"), str)
        except RenderError as error:
            assert str(error)


def test_every_known_key_with_every_wrong_type_is_a_problem(fuzz_root: Path) -> None:
    """Deterministic sweep: each builder, provisioner and post-processor type with all its
    keys set to one JSON type at a time."""
    values: list[Any] = [None, True, -1, 1.5, "{{nope}}", [], [1, {}], {"a": [None]}]
    for kinds, key in (
        (BUILDER_FIELDS, "builders"),
        (fields.PROVISIONER_FIELDS, "provisioners"),
        (fields.POST_PROCESSOR_FIELDS, "post-processors"),
    ):
        for kind, known in kinds.items():
            for value in values:
                entry = {name: value for name in known}
                entry["type"] = kind
                data = {"builders": [QEMU]} if key != "builders" else {}
                data[key] = [entry]
                check_text(fuzz_root, json.dumps(data))


# --- cassettes on the replay path ----------------------------------------------------------------

YAML_PIECES = [
    "version: 1\n", "interactions:\n", "- request:\n", "    method: GET\n", "    uri: x\n",
    "  response:\n", "    status: {code: 200}\n", "    body: {string: ''}\n", "metadata:\n",
    "  imagebuild: {started: ", "}\n", "[", "]", "{", "}", ": ", "- ", "&a ", "*a", "!!binary ",
    "!!python/object:os.system ", "!!int ", "!!timestamp 2020-99-99", "!!float x", "9" * 5000,
    "'", '"', "|\n", ">\n", "#", "\t", "\x00", "\ufeff", "%YAML 1.1\n", "---\n", "...\n",
]
yaml_ish_text = st.lists(
    st.one_of(st.sampled_from(YAML_PIECES), st.characters()), max_size=40
).map("".join)


def cassette_documents() -> st.SearchStrategy[str]:
    """A vcrpy-shaped cassette with any field replaced by any value."""
    interaction = st.fixed_dictionaries(
        {
            "request": st.fixed_dictionaries(
                {
                    "method": st.just("GET") | json_values,
                    "uri": st.just("https://x/") | json_values,
                },
                optional={"body": json_values, "headers": json_values, "extra": json_values},
            )
            | json_values,
            "response": st.fixed_dictionaries(
                {"status": st.fixed_dictionaries({"code": st.just(200) | json_values})
                 | json_values},
                optional={"body": json_values, "headers": json_values},
            )
            | json_values,
        }
    )
    metadata = st.fixed_dictionaries(
        {"imagebuild": st.fixed_dictionaries(
            {"started": st.integers() | json_values},
            optional={"variables": json_values, "endpoints": json_values},
        ) | json_values}
    )
    document = st.fixed_dictionaries(
        {"version": st.just(1) | json_values, "interactions": st.lists(interaction, max_size=2)},
        optional={"metadata": metadata},
    )
    import yaml

    return document.map(lambda d: yaml.safe_dump(d, allow_unicode=True))


def enter(context: Any) -> None:
    with context:
        pass


def replay(root: Path, text: str) -> None:
    """Replay a build whose cassette holds text: it works, or a CassetteError names it."""
    with workdir(root) as folder:
        template = folder / "webserver.json"
        template.write_text(json.dumps({"builders": [{"type": "azure-arm"}]}))
        cassette = folder / "cassettes" / "webserver" / "azure-arm" / "build.yaml"
        cassette.parent.mkdir(parents=True)
        cassette.write_text(text, encoding="utf-8", errors="surrogatepass")
        before = listing(folder)
        recorder = CassetteRecorder(
            RecordingSettings(mode="none", root=folder / "cassettes", rootdir=folder)
        )
        with no_hang():
            for step in (
                lambda: read_cassette(cassette),
                lambda: recorder.template_run(template),
                lambda: enter(recorder.use(template, "azure-arm", "build", SecretBook())),
            ):
                try:
                    step()
                except CassetteError as error:
                    assert str(cassette) in str(error)
        assert listing(folder) == before


@fuzz(100)
@given(text=yaml_ish_text)
def test_malformed_yaml_cassettes_are_cassette_errors(fuzz_root: Path, text: str) -> None:
    replay(fuzz_root, text)


@fuzz(100)
@given(text=cassette_documents())
def test_misshapen_cassettes_are_cassette_errors(fuzz_root: Path, text: str) -> None:
    replay(fuzz_root, text)


# --- whole sessions -----------------------------------------------------------------------------

any_bad_template = st.one_of(
    json_ish_text, templates.map(json.dumps), mutated_examples(), pathological()
)


def own_files(folder: Path) -> set[str]:
    """What is beside the templates, leaving out pytester's own files: the session's base
    temp (runpytest-N) and its captured stdout and stderr."""
    return {
        p for p in listing(folder) if not p.startswith("runpytest-") and p not in PYTESTER_FILES
    }


PYTESTER_FILES = {"stdout", "stderr"}
# Plugins of this environment that write to the working directory on their own.
QUIET = ("-p", "no:cacheprovider", "-p", "no:benchmark")


@settings(
    max_examples=max(4, EXAMPLES // 20),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(bad=any_bad_template)
def test_a_bad_template_never_stops_the_session(pytester: pytest.Pytester, bad: str) -> None:
    (pytester.path / "good.json").write_text(GOOD)
    (pytester.path / "bad.json").write_text(bad, encoding="utf-8", errors="surrogatepass")
    before = own_files(pytester.path)
    with no_hang(300):
        result = pytester.runpytest_subprocess(
            *QUIET, "-v", "--image-template", "good.json",
            "--image-template", "bad.json", "-k", "validate",
        )
    output = result.stdout.str()
    assert result.parseoutcomes().get("passed", 0) >= 1, output
    assert "FAILED good" not in output, output
    assert "Traceback" not in output, output
    assert "error during collection" not in output, output
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), output
    assert own_files(pytester.path) == before


def test_good_templates_still_pass_after_a_crash_class_input(pytester: pytest.Pytester) -> None:
    """The classes that crashed collection, all in one session beside a good template."""
    (pytester.path / "good.json").write_text(GOOD)
    bad = {
        "deep.json": '{"a": ' + "[" * 100000 + "]" * 100000 + "}",
        "digits.json": '{"variables": {"x": ' + "9" * 5000 + "}}",
        "parens.json": json.dumps({"variables": {"x": "{{" + "(" * 50000 + ")" * 50000 + "}}"}}),
    }
    for name, text in bad.items():
        (pytester.path / name).write_text(text)
    args = ["--image-template", "good.json"]
    for name in bad:
        args += ["--image-template", name]
    with no_hang(300):
        result = pytester.runpytest_subprocess(*QUIET, "-k", "validate", *args)
    result.assert_outcomes(passed=1, failed=3)
    assert "Traceback" not in result.stdout.str()

