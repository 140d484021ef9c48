"""Warnings of the validate item: what validate did not check, and what Packer accepts silently."""

import json

import pytest

from pytest_imagebuild.template import check, check_all, load_template

FOREIGN = {
    "builders": [
        {"type": "amazon-ebs", "name": "east", "region": "us-east-1"},
        {"type": "amazon-ebs", "name": "west", "region": "us-west-2"},
        {"type": "null", "communicator": "none"},
    ],
    "provisioners": [
        {"type": "ansible", "playbook_file": "site.yml"},
        {"type": "shell-local", "inline": ["true"]},
    ],
    "post-processors": [{"type": "vagrant-cloud", "box_tag": "x/y"}],
}


def write(tmp_path, data, name="t.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def test_unimplemented_types_are_warnings_once_per_type(tmp_path):
    path = write(tmp_path, FOREIGN)
    assert check(path) == []
    warnings = [(p.path, p.message) for p in check_all(path) if p.warning]
    assert [where for where, _ in warnings] == [
        "builders[0].type",
        "provisioners[0].type",
        "post-processors[0].type",
    ]
    assert warnings[0][1].startswith(
        "builder 'amazon-ebs' (2): keys not checked by pytest-imagebuild"
    )
    assert warnings[1][1].startswith("provisioner 'ansible' (1): keys not checked")
    assert warnings[2][1].startswith("post-processor 'vagrant-cloud' (1): keys not checked")


def test_everything_else_is_still_checked(tmp_path):
    data = json.loads(json.dumps(FOREIGN))
    data["provisioners"][1]["inlin"] = ["x"]
    data["builders"][2]["ssh_hots"] = "h"
    errors = check(write(tmp_path, data))
    assert sorted(p.path for p in errors) == [
        "builders[2].ssh_hots",
        "provisioners[1].inlin",
    ]


def test_types_we_implement_or_packer_does_not_know_give_no_such_warning(tmp_path):
    data = {"builders": [{"type": "nosuchbuilder"}, {"type": "null", "communicator": "none"}]}
    problems = check_all(write(tmp_path, data))
    assert [(p.warning, p.path) for p in problems] == [(False, "builders[0].type")]


def test_undeclared_user_variable_is_a_warning_and_the_template_loads(tmp_path):
    data = {
        "variables": {"image_version": "1"},
        "builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [{"type": "shell-local", "inline": ["echo {{user `image_verison`}}"]}],
    }
    path = write(tmp_path, data)
    assert check(path) == []
    load_template(path)  # no TemplateError
    (warning,) = check_all(path)
    assert warning.warning and warning.path == "provisioners[0].inline[0]"
    assert "did you mean 'image_version'?" in warning.message
    assert "Packer accepts this and uses an empty string" in warning.message


def test_a_var_file_value_for_an_undeclared_variable_is_used_silently(tmp_path):
    data = {
        "builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [{"type": "shell-local", "inline": ["echo {{user `region`}}"]}],
    }
    path = write(tmp_path, data)
    var_file = write(tmp_path, {"region": "westeurope"}, "vars.json")
    assert check_all(path, var_files=[var_file]) == []


@pytest.fixture
def foreign_template(pytester):
    data = json.loads(json.dumps(FOREIGN))
    data["builders"][0]["secret_key"] = "AKIASECRETVALUE1234"
    # One line: the warning's line holds the secret; it must not be printed.
    (pytester.path / "t.json").write_text(json.dumps(data))
    return pytester


def test_validate_passes_and_the_summary_lists_the_warnings(foreign_template):
    result = foreign_template.runpytest("--image-template", "t.json", "-k", "validate")
    result.assert_outcomes(passed=1, warnings=3)
    result.stdout.fnmatch_lines(
        [
            "*warnings summary*",
            "t.json::validate",
            "*template t.json:1: ImagebuildWarning: builders[[]0].type: builder 'amazon-ebs' (2):"
            " keys not checked by pytest-imagebuild*",
        ]
    )
    result.stdout.no_fnmatch_line("*AKIASECRETVALUE1234*")


def test_warnings_can_be_made_errors(foreign_template):
    result = foreign_template.runpytest(
        "--image-template",
        "t.json",
        "-k",
        "validate",
        "-W",
        "error::pytest_imagebuild.caveats.ImagebuildWarning",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*builder 'amazon-ebs' (2): keys not checked*"])
    result.stdout.no_fnmatch_line("*Traceback*")
