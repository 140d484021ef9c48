"""Every Packer template function, rendered once per run and deterministically from a seed."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pytest_imagebuild.errors import TemplateError
from pytest_imagebuild.template import RunContext, load_template, plan_builds

MOMENT = datetime(2026, 11, 25, 4, 28, 26, tzinfo=timezone.utc)


def render(tmp_path: Path, text: str, *, seed: str = "seed", section: str = "builder") -> str:
    """Render text as the value of a null builder field (or a provisioner field)."""
    template = {"builders": [{"type": "null", "name": "b1", "communicator": "none"}]}
    if section == "builder":
        template["builders"][0]["value"] = text
    else:
        template["provisioners"] = [{"type": "shell-local", "inline": [text]}]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    run = RunContext.create(seed, MOMENT)
    plans, problems = plan_builds(load_template_lax(path, run))
    if problems:
        raise TemplateError(problems)
    if section == "builder":
        return plans[0].config["value"]
    return plans[0].provisioners[0].config["inline"][0]


def load_template_lax(path, run):
    from pytest_imagebuild.template.loader import read_template

    template, problems = read_template(path, run=run)
    assert not problems
    return template


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{timestamp}}", "1795580906"),
        ("{{isotime}}", "2026-11-25T04:28:26Z"),
        ('{{isotime "2006-01-02 15:04:05"}}', "2026-11-25 04:28:26"),
        ("{{isotime `Jan 2, 2006 3:04PM`}}", "Nov 25, 2026 4:28AM"),
        ("{{isotime | clean_resource_name}}", "2026-11-25T04-28-26Z"),
        ('{{strftime "%Y%m%d"}}', "20261125"),
        ("{{build_name}}", "b1"),
        ("{{build_type}}", "null"),
        ("{{split `a-b-c` `-` 1}}", "b"),
        ("{{replace `a` `b` 1 `aaa`}}", "baa"),
        ("{{replace `a` `b` -1 `aaa`}}", "bbb"),
        ("{{replace_all `a` `b` `aaa`}}", "bbb"),
        ("{{lower `MiXeD`}}", "mixed"),
        ("{{upper `MiXeD`}}", "MIXED"),
        ("{{clean_resource_name `my image:v1/2.`}}", "my-image-v1-2"),
        ("{{lower (upper `x`)}}", "x"),
        ("{{ `abc` | upper }}", "ABC"),
        ("{{packer_version}}", "1.6.6"),
        ("{{/* a comment renders as nothing */}}", ""),
        ("a {{- /* trimmed */ -}} b", "ab"),
        ("no actions here", "no actions here"),
    ],
)
def test_functions(tmp_path, text, expected):
    assert render(tmp_path, text) == expected


def test_template_dir_and_pwd_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert render(tmp_path, "{{template_dir}}") == str(tmp_path.resolve())
    assert Path(render(tmp_path, "{{pwd}}")).is_absolute()


def test_uuid_is_fixed_for_a_run_and_derived_from_the_seed(tmp_path):
    first = render(tmp_path, "{{uuid}} {{uuid}}")
    one, two = first.split()
    assert one == two
    assert len(one) == 36 and one.count("-") == 4
    assert render(tmp_path, "{{uuid}}") == one
    assert render(tmp_path, "{{uuid}}", seed="other") != one


def test_unseeded_runs_get_fresh_uuids():
    assert RunContext.create().run_uuid != RunContext.create().run_uuid


def test_fields_rendered_at_run_time_are_kept(tmp_path):
    text = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}' {{build `ID`}}"
    assert render(tmp_path, text, section="provisioner") == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{{nosuchfunc}}", 'function "nosuchfunc" not defined'),
        ("{{user `x`}", "unclosed action"),
        ("{{env `HOME`}}", "env vars are not allowed here"),
        ("{{vault `/secret` `key`}}", "Vault secrets is not supported"),
        ("{{split `a-b` `-` 5}}", "index 5 out of range"),
        ("{{define `x`}}x{{end}}", "control action {{define}} is not supported"),
        ("{{if true}}x", "unexpected EOF"),
        ("{{lower}}", "wrong number of args for lower: want 1 got 0"),
        ("{{isotime `a` `b`}}", "wrong number of args for isotime: want 0 to 1 got 2"),
        ("{{split `a-b` `-` `x`}}", "expected integer; found 'x'"),
        ("{{build `ID`}}", "only known to provisioners and post-processors"),
        ("{{/* not closed", "unclosed comment"),
    ],
)
def test_render_errors(tmp_path, text, fragment):
    with pytest.raises(TemplateError) as error:
        render(tmp_path, text)
    assert fragment in str(error.value)
    assert "builders[0].value" in str(error.value)


def test_errors_name_no_python_internals(tmp_path):
    for text in ("{{upper `a` `b`}}", "{{replace `a` `b` `c`}}", "{{timestamp 1}}"):
        with pytest.raises(TemplateError) as error:
            render(tmp_path, text)
        message = str(error.value)
        assert "lambda" not in message and "positional argument" not in message, message
        assert "\n" not in message.split("\n  * ", 1)[1], "a problem must stay on one line"


def test_undeclared_user_variable_is_reported_with_a_hint(tmp_path):
    path = tmp_path / "t.json"
    builder = {"type": "null", "communicator": "none", "value": "{{user `verison`}}"}
    path.write_text(json.dumps({"variables": {"version": "1"}, "builders": [builder]}))
    template = load_template_lax(path, RunContext.create("s", MOMENT))
    _, problems = plan_builds(template)
    assert [p.path for p in problems] == ["builders[0].value"]
    assert "not declared" in problems[0].message
    assert problems[0].warning, "Packer accepts it: a warning, not an error"
    assert "did you mean 'version'?" in problems[0].message


def test_clean_resource_name_is_only_for_builders(tmp_path):
    with pytest.raises(TemplateError, match='function "clean_resource_name" not defined'):
        render(tmp_path, "{{clean_resource_name `x`}}", section="provisioner")


def test_load_template_renders_with_the_run(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"builders": [{"type": "null", "communicator": "none"}]}))
    template = load_template(path, run=RunContext.create("s", MOMENT))
    assert template.run.started == MOMENT
