"""Variables: defaults, var files and --image-var, with Packer 1.6.6's precedence."""

import json

import pytest

from pytest_imagebuild.errors import TemplateError
from pytest_imagebuild.template import load_template
from pytest_imagebuild.template.loader import read_template


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def template_file(tmp_path):
    return write(
        tmp_path,
        "t.json",
        {
            "variables": {
                "size": "small",
                "region": "eu",
                "name": "img-{{user `region`}}",
                "home": "{{env `IMAGEBUILD_TEST_HOME`}}",
            },
            "builders": [{"type": "null", "communicator": "none"}],
        },
    )


def values(path, **kwargs):
    return load_template(path, **kwargs).variables.values


def test_defaults_and_references_to_other_variables(template_file, monkeypatch):
    monkeypatch.setenv("IMAGEBUILD_TEST_HOME", "/home/x")
    result = values(template_file)
    assert result == {"size": "small", "region": "eu", "name": "img-eu", "home": "/home/x"}


def test_later_var_file_beats_earlier(tmp_path, template_file):
    first = write(tmp_path, "a.json", {"size": "medium", "region": "us"})
    second = write(tmp_path, "b.json", {"size": "large"})
    result = values(template_file, var_files=[first, second])
    assert result["size"] == "large"
    assert result["region"] == "us"
    assert result["name"] == "img-us"


def test_cli_var_beats_every_var_file_whatever_the_order(tmp_path, template_file):
    var_file = write(tmp_path, "a.json", {"size": "medium"})
    assert values(template_file, variables={"size": "xl"}, var_files=[var_file])["size"] == "xl"


def test_undeclared_cli_var_is_accepted_like_packer(template_file):
    assert values(template_file, variables={"extra": "1"})["extra"] == "1"


def test_null_default_is_required(tmp_path):
    path = write(
        tmp_path,
        "t.json",
        {"variables": {"req": None}, "builders": [{"type": "null", "communicator": "none"}]},
    )
    with pytest.raises(TemplateError) as error:
        load_template(path)
    assert "required variable not set: req" in str(error.value)
    assert "variables.req" in str(error.value)
    assert values(path, variables={"req": "given"})["req"] == "given"


def test_cyclic_defaults_are_reported(tmp_path):
    path = write(
        tmp_path,
        "t.json",
        {
            "variables": {"a": "{{user `b`}}", "b": "{{user `a`}}"},
            "builders": [{"type": "null", "communicator": "none"}],
        },
    )
    with pytest.raises(TemplateError, match="cycle"):
        load_template(path)


def test_env_is_refused_outside_variables(tmp_path):
    path = write(
        tmp_path,
        "t.json",
        {"builders": [{"type": "null", "communicator": "none", "x": "{{env `HOME`}}"}]},
    )
    template, _ = read_template(path)
    from pytest_imagebuild.template import plan_builds

    _, problems = plan_builds(template)
    assert any("env vars are not allowed here" in p.message for p in problems)


def test_broken_var_file_names_the_file_and_line(tmp_path, template_file):
    bad = tmp_path / "vars.json"
    bad.write_text('{\n  "size": "x",\n  "region": \n}')
    with pytest.raises(TemplateError) as error:
        load_template(template_file, var_files=[bad])
    assert f"{bad}:4" in str(error.value)


def test_sensitive_values_are_masked(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEBUILD_TEST_SECRET", "s3cr3t-value")
    path = write(
        tmp_path,
        "t.json",
        {
            "variables": {"secret": "{{env `IMAGEBUILD_TEST_SECRET`}}"},
            "sensitive-variables": ["secret"],
            "builders": [{"type": "null", "communicator": "none"}],
        },
    )
    template = load_template(path)
    assert template.variables.secret_values() == {"s3cr3t-value"}


def test_non_string_default_is_an_error_like_packer(tmp_path):
    path = write(
        tmp_path,
        "t.json",
        {"variables": {"count": 5}, "builders": [{"type": "null", "communicator": "none"}]},
    )
    with pytest.raises(TemplateError, match="variable count: the default must be a string"):
        load_template(path)


def test_default_referring_to_an_undeclared_variable_is_an_error(tmp_path):
    path = write(
        tmp_path,
        "t.json",
        {
            "variables": {"name": "{{user `prefx`}}-web", "prefix": "acme"},
            "builders": [{"type": "null", "communicator": "none"}],
        },
    )
    with pytest.raises(TemplateError) as error:
        load_template(path)
    message = str(error.value)
    assert "variables.name" in message
    assert "error interpolating default value for 'name'" in message
    assert "did you mean 'prefix'?" in message
    assert values(path, variables={"prefx": "given"})["name"] == "given-web"


@pytest.mark.parametrize("text", ["{{build_name}}", "{{build_type}}", "{{build `ID`}}"])
def test_build_values_are_not_available_in_variables(tmp_path, text):
    path = write(
        tmp_path,
        "t.json",
        {"variables": {"x": text}, "builders": [{"type": "null", "communicator": "none"}]},
    )
    with pytest.raises(TemplateError, match="not available in variables"):
        load_template(path)


def test_sensitive_variables_must_name_variables(tmp_path):
    path = write(
        tmp_path,
        "t.json",
        {
            "variables": {"secret": "x"},
            "sensitive-variables": ["secret", "secrte"],
            "builders": [{"type": "null", "communicator": "none"}],
        },
    )
    template, problems = read_template(path)
    assert [p.path for p in problems] == ["sensitive-variables[1]"]
    assert template.variables.sensitive == frozenset({"secret"})
