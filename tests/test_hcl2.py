"""HCL2 configurations: the language, variables, errors, the HCL2 corpus and the main job."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_imagebuild.template import RunContext, check, load_template, plan_builds
from pytest_imagebuild.template.hcl2 import template_stem
from pytest_imagebuild.template.hcl2.evaluate import EvalError, Evaluator, Namespace
from pytest_imagebuild.template.hcl2.functions import RunFunctions
from pytest_imagebuild.template.hcl2.parse import parse_text
from tests.hcl2_compare import plan_summary

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
HCL2_CORPUS = Path(__file__).parent / "corpus" / "hcl2"
RUN = RunContext.create("hcl2-tests")


def evaluate(expression: str, variables: dict | None = None):
    body, file, problems = parse_text(f"x = {expression}\n", "t.pkr.hcl")
    assert body is not None and not problems, problems
    roots = {
        "var": Namespace("var", variables or {}, "Reference to undeclared input variable"),
        "path": {"root": "/cfg", "cwd": "/here"},
    }
    evaluator = Evaluator(file, roots, RunFunctions(RUN, Path("/cfg")).table())
    return evaluator.value(body.attributes["x"].expr)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"a-${var.n}-b"', "a-2-b"),
        ("var.n", 2),  # a lone interpolation keeps its type
        ('"${var.n}"', 2),
        ('"%{ if var.n > 1 }big%{ else }small%{ endif }"', "big"),
        ("[for s in var.l : upper(s) if s != \"b\"]", ["A", "C"]),
        ("{ for k, v in var.m : v => k }", {"1": "x"}),
        ("var.objs[*].name", ["p", "q"]),
        ("var.objs.*.name", ["p", "q"]),
        ("var.l[1]", "b"),
        ("var.m[\"x\"]", "1"),
        ("1 + 2 * 3 == 7 && !false", True),
        ("var.n > 5 ? \"y\" : \"n\"", "n"),
        ('join("-", split(",", "a,b"))', "a-b"),
        ('replace("a.b.c", ".", "_")', "a_b_c"),
        ('regex_replace("v1.2.3", "[.]", "")', "v123"),
        ('coalesce("", "fallback")', "fallback"),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ("merge({a = 1}, {b = 2})", {"a": 1, "b": 2}),
        ('lookup({a = 1}, "z", 0)', 0),
        ("length(var.l)", 3),
        ("element(var.l, 4)", "b"),
        ("keys({b = 1, a = 2})", ["a", "b"]),
        ('contains(var.l, "c")', True),
        ('format("%s-%03d", "web", 7)', "web-007"),
        ("jsonencode({a = [1, true]})", '{"a":[1,true]}'),
        ('base64encode("hi")', "aGk="),
        ('sha256("")', "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ('cidrsubnet("10.0.0.0/16", 8, 3)', "10.0.3.0/24"),
        ('trimspace("  x ")', "x"),
        ('basename("/a/b.txt")', "b.txt"),
        ('abspath("/a/../b")', "/b"),
        ('"${path.root}/x"', "/cfg/x"),
        ('"$${literal}"', "${literal}"),
        ("can(var.nope)", False),
        ('try(var.nope, "dflt")', "dflt"),
        ('formatdate("YYYY-MM-DD", "2024-05-06T07:08:09Z")', "2024-05-06"),
    ],
)
def test_expressions_evaluate_as_hcl_does(expression: str, expected):
    variables = {
        "n": 2,
        "l": ["a", "b", "c"],
        "m": {"x": "1"},
        "objs": [{"name": "p"}, {"name": "q"}],
    }
    assert evaluate(expression, variables) == expected


def test_timestamp_and_uuid_are_fixed_by_the_run_seed():
    functions = RunFunctions(RUN, Path(".")).table()
    again = RunFunctions(RUN, Path(".")).table()
    assert functions["timestamp"]() == again["timestamp"]()
    assert functions["uuidv4"]() == again["uuidv4"]()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", functions["timestamp"]())


def test_heredoc_trims_indentation_and_runs_directives():
    text = 'x = <<-EOT\n    %{ for r in ["a", "b"] ~}\n    - ${r}\n    %{ endfor ~}\n    EOT\n'
    body, file, _ = parse_text(text, "t.pkr.hcl")
    assert body is not None
    value = Evaluator(file, {}, {}).value(body.attributes["x"].expr)
    assert value == "- a\n- b\n"


def test_an_error_names_the_expression_its_column_and_the_closest_name():
    with pytest.raises(EvalError) as caught:
        evaluate('"x-${var.vm_sise}"', {"vm_size": "a"})
    message = caught.value.message()
    assert "`var.vm_sise`" in message and "(column 10)" in message
    assert "did you mean `var.vm_size`?" in message


def expected_fragment(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: ...'"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize(
    "template", sorted(HCL2_CORPUS.glob("*/*.pkr.hcl")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_hcl2_corpus(template: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(template.parent)
    problems = check(template.name, run=RUN)
    if template.parent.name == "valid":
        assert problems == []
        return
    assert problems, "an invalid configuration passed validation"
    fragment = expected_fragment(template)
    assert any(fragment in str(problem) for problem in problems), "\n".join(map(str, problems))
    assert all(problem.line for problem in problems if problem.file.endswith(".pkr.hcl"))


def test_every_problem_is_reported_at_once_with_file_and_line(tmp_path: Path):
    (tmp_path / "c.pkr.hcl").write_text(
        'data "x" "y" {}\n'
        'source "null" "a" {\n  communicator = "none"\n}\n'
        'build {\n  sources = ["source.null.a"]\n'
        '  provisioner "shell-local" {\n    inline = [var.nope]\n  }\n'
        '  post-processor "manifest" {\n    outptu = "m.json"\n  }\n}\n'
    )
    problems = check(tmp_path / "c.pkr.hcl", run=RUN)
    lines = sorted((problem.line, problem.message[:30]) for problem in problems)
    assert [line for line, _ in lines] == [1, 8, 11], lines
    assert "did you mean 'output'?" in str(problems[-1])


def write_folder(folder: Path) -> None:
    folder.mkdir()
    (folder / "variables.pkr.hcl").write_text(
        'variable "size" {\n  type = string\n  default = "from-default"\n}\n'
        'variable "count_of" {\n  type = number\n  default = 1\n}\n'
    )
    (folder / "build.pkr.hcl").write_text(
        'source "null" "one" {\n  communicator = "none"\n}\n'
        'build {\n  sources = ["source.null.one"]\n'
        '  provisioner "shell-local" {\n    inline = ["echo ${var.size} ${var.count_of + 1}"]\n'
        "  }\n}\n"
    )


def inline(folder: Path, **kwargs) -> str:
    template = load_template(folder, run=RUN, **kwargs)
    plans, _ = plan_builds(template)
    return plans[0].provisioners[0].config["inline"][0]


def test_variable_precedence_is_packers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "cfg"
    write_folder(folder)
    assert inline(folder) == "echo from-default 2"
    monkeypatch.setenv("PKR_VAR_size", "from-env")
    monkeypatch.setenv("PKR_VAR_count_of", "41")  # read as HCL: a number for a number variable
    assert inline(folder) == "echo from-env 42"
    (folder / "b.auto.pkrvars.hcl").write_text('size = "from-auto-b"\n')
    (folder / "a.auto.pkrvars.hcl").write_text('size = "from-auto-a"\n')
    assert inline(folder) == "echo from-auto-b 42"  # later in lexical order wins
    first, second = tmp_path / "1.pkrvars.hcl", tmp_path / "2.pkrvars.hcl"
    first.write_text('size = "from-file-1"\n')
    second.write_text('size = "from-file-2"\n')
    assert inline(folder, var_files=[second, first]) == "echo from-file-1 42"
    assert inline(folder, var_files=[first], variables={"size": "from-cli"}) == (
        "echo from-cli 42"
    )


def test_undeclared_or_mistyped_values_are_problems(tmp_path: Path):
    folder = tmp_path / "cfg"
    write_folder(folder)
    problems = check(folder, variables={"sise": "x", "count_of": "many"}, run=RUN)
    text = "\n".join(map(str, problems))
    assert 'Undefined -var variable: "sise"' in text and "did you mean `size`?" in text
    assert 'Invalid value for variable "count_of"' in text


def test_a_folder_needs_pkr_hcl_files(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    problems = check(tmp_path / "empty", run=RUN)
    assert problems and "no *.pkr.hcl files" in problems[0].message


def test_template_stem_removes_the_whole_format_suffix(tmp_path: Path):
    assert template_stem(Path("a/webserver.pkr.hcl")) == "webserver"
    assert template_stem(Path("webserver.pkr.json")) == "webserver"
    assert template_stem(Path("webserver.json")) == "webserver"
    (tmp_path / "win2022").mkdir()
    assert template_stem(tmp_path / "win2022") == "win2022"


def test_webserver_hcl2_gives_the_same_build_as_the_json(monkeypatch: pytest.MonkeyPatch):
    credentials = {
        "ARM_CLIENT_ID": "client",
        "ARM_CLIENT_SECRET": "secret",
        "ARM_TENANT_ID": "tenant",
        "ARM_SUBSCRIPTION_ID": "subscription",
    }
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(EXAMPLES)
    plans = []
    for name in ("webserver.json", "webserver.pkr.hcl"):
        template = load_template(name, run=RUN)
        built, problems = plan_builds(template)
        assert problems == []
        plans.append(built)
    assert [plan_summary(p) for p in plans[0]] == [plan_summary(p) for p in plans[1]]
    json_plan, hcl_plan = plans[0][0], plans[1][0]
    assert json_plan.secrets() == hcl_plan.secrets()
    assert set(credentials.values()) <= hcl_plan.secrets()
    assert json_plan.template.variables.sensitive == hcl_plan.template.variables.sensitive


def offline_env() -> dict[str, str]:
    drop = ("ARM_", "AZURE_", "IMAGEBUILD_AZURE_", "PKR_VAR_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.mark.skipif(
    not (ROOT / "cassettes" / "examples" / "webserver").is_dir(), reason="no cassettes"
)
def test_webserver_hcl2_replays_the_json_templates_cassettes_offline(tmp_path: Path):
    cassettes = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes", cassettes)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
         "--image-template", "examples/webserver.pkr.hcl", "--image-record-mode=none",
         "--image-block-network", "-o", f"image_cassette_dir={cassettes}",
         f"--basetemp={tmp_path / 'run'}"],
        cwd=ROOT, env=offline_env(), capture_output=True, text=True, timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "webserver.pkr.hcl::build[azure-arm]" in output
    assert "5 passed" in output  # validate, build and the three smoke tests of test_webserver.py
    manifest = json.loads(next((tmp_path / "run").rglob("manifest.json")).read_text())
    assert manifest["builds"][0]["name"] == "azure-arm"
    assert sorted(p.name for p in cassettes.rglob("*.yaml")) == sorted(
        p.name for p in (ROOT / "cassettes").rglob("*.yaml")
    )


def test_a_folder_is_one_collected_template(pytester: pytest.Pytester):
    folder = pytester.path / "images" / "app"
    folder.parent.mkdir()
    write_folder(folder)
    (folder / "test_inside.py").write_text("def test_ok():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--image-template", "images/app",
                                "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["images/app::validate", "images/app::build[one]", "images/app/test_inside.py::test_ok"]
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--image-template", "images/app",
                                "-k", "validate")
    result.assert_outcomes(passed=1)


def test_a_pkr_hcl_file_is_collected_and_its_problems_shown(pytester: pytest.Pytester):
    (pytester.path / "web.pkr.hcl").write_text(
        'source "null" "one" {\n  communicator = "none"\n}\n'
        'build {\n  sources = ["source.null.one"]\n'
        '  provisioner "shell-local" {\n    inline = [var.vm_sise]\n  }\n}\n'
        'variable "vm_size" {\n  default = "x"\n}\n'
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--image-template", "web.pkr.hcl",
                                "-k", "validate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*web.pkr.hcl:7: `var.vm_sise` (column 15)*did you mean `var.vm_size`?*"]
    )
    assert "Traceback" not in result.stdout.str()
