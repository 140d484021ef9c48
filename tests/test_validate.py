"""Validation like `packer validate`: each class of mistake, located by file, line and key."""

import copy
import json

import pytest

from pytest_imagebuild.template import check

AZURE = {
    "type": "azure-arm",
    "client_id": "{{user `client_id`}}",
    "client_secret": "{{user `client_secret`}}",
    "subscription_id": "{{user `subscription_id`}}",
    "managed_image_resource_group_name": "images-rg",
    "managed_image_name": "win2016_iis",
    "os_type": "Windows",
    "image_publisher": "MicrosoftWindowsServer",
    "image_offer": "WindowsServer",
    "image_sku": "2016-Datacenter",
    "communicator": "winrm",
    "winrm_use_ssl": "true",
    "winrm_insecure": "true",
    "winrm_timeout": "3m",
    "winrm_username": "packer",
    "azure_tags": {"dept": "Engineering"},
    "location": "East US 2",
    "vm_size": "Standard_DS2_v2",
}
QEMU = {
    "type": "qemu",
    "iso_url": "base.qcow2",
    "iso_checksum": "none",
    "disk_image": True,
    "ssh_username": "debian",
}
VARIABLES = {"client_id": "", "client_secret": "", "subscription_id": ""}


def template(builders=None, **sections):
    data = {"variables": VARIABLES, "builders": builders or [copy.deepcopy(AZURE)]}
    data.update({key.replace("_", "-"): value for key, value in sections.items()})
    return data


def problems_of(tmp_path, data, **kwargs):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data, indent=2))
    return [str(p) for p in check(path, **kwargs)]


def assert_problem(problems, *fragments):
    assert any(all(f in p for f in fragments) for p in problems), "\n".join(problems)


def test_valid_templates_have_no_problems(tmp_path):
    assert problems_of(tmp_path, template()) == []
    assert problems_of(tmp_path, template([QEMU])) == []


def test_shipped_examples_are_valid():
    from pathlib import Path

    examples = Path(__file__).parent.parent / "examples"
    for path in sorted(examples.glob("*.json")):
        assert check(path) == [], path


def test_unknown_root_key_with_hint(tmp_path):
    data = template()
    data["provisioner"] = []
    problems = problems_of(tmp_path, data)
    assert_problem(
        problems,
        "unknown root level key in template: 'provisioner'",
        "did you mean 'provisioners'?",
    )


def test_comment_keys_are_allowed(tmp_path):
    data = template()
    data["_comment"] = "anything"
    assert problems_of(tmp_path, data) == []


def test_no_builders(tmp_path):
    assert_problem(problems_of(tmp_path, {"builders": []}), "at least one builder must be defined")
    assert_problem(problems_of(tmp_path, {}), "at least one builder must be defined")


def test_builder_without_type_and_duplicate_names(tmp_path):
    problems = problems_of(tmp_path, template([{"name": "x"}, QEMU, QEMU]))
    assert_problem(problems, "builders[0]", "builder 1: missing 'type'")
    assert_problem(problems, "builders[2].name", "builder with name 'qemu' already exists")


@pytest.mark.parametrize(
    ("section", "entry", "message"),
    [
        (
            "builders",
            {"type": "azure-armm"},
            "Unknown builder azure-armm (did you mean 'azure-arm'?)",
        ),
        ("provisioners", [{"type": "shel", "inline": ["x"]}], "Unknown provisioner shel"),
        ("post_processors", [{"type": "manifset"}], "Unknown post-processor manifset"),
    ],
)
def test_unknown_types(tmp_path, section, entry, message):
    data = template([entry]) if section == "builders" else template(**{section: entry})
    assert_problem(problems_of(tmp_path, data), message)


def test_unknown_key_names_file_line_and_path_with_a_hint(tmp_path):
    builder = dict(AZURE, vm_szie="Standard_A1")
    problems = problems_of(tmp_path, template([builder]))
    lines = json.dumps(template([builder]), indent=2).splitlines()
    line = next(n for n, text in enumerate(lines, 1) if '"vm_szie"' in text)
    assert_problem(
        problems,
        f"t.json:{line}:",
        "builders[0].vm_szie",
        "unknown configuration key: 'vm_szie'",
        "did you mean 'vm_size'?",
    )


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("vm_size", {"a": 1}, "'vm_size' expected a string, got an object"),
        ("winrm_use_ssl", "yes", "'winrm_use_ssl' expected a boolean, got the string 'yes'"),
        ("winrm_timeout", "3 minutes", "'winrm_timeout' expected a duration"),
        ("azure_tags", "dept", "'azure_tags' expected an object"),
    ],
)
def test_wrong_types(tmp_path, key, value, fragment):
    assert_problem(problems_of(tmp_path, template([dict(AZURE, **{key: value})])), fragment)


def test_all_errors_are_reported_at_once(tmp_path):
    builder = dict(AZURE, vm_szie="x", winrm_use_ssl="yes", os_type="Solaris")
    problems = problems_of(tmp_path, template([builder], provisioners=[{"type": "shell"}]))
    assert len(problems) >= 4
    assert_problem(problems, 'The os_type "Solaris" is invalid')
    assert_problem(problems, "Either a script file or inline script must be specified.")


def test_azure_required_fields(tmp_path):
    problems = problems_of(tmp_path, template([{"type": "azure-arm"}]))
    for message in (
        "An os_type must be specified",
        "An image_publisher must be specified",
        "A capture_container_name or managed_image_name must be specified",
        "Specify either a location to create the resource group in or an existing "
        "build_resource_group_name, but not both.",
    ):
        assert_problem(problems, message)


def test_azure_managed_image_name_rule(tmp_path):
    problems = problems_of(tmp_path, template([dict(AZURE, managed_image_name="bad name-")]))
    assert_problem(problems, "builders[0].managed_image_name", "must match the regular expression")


def test_qemu_required_fields(tmp_path):
    problems = problems_of(tmp_path, template([{"type": "qemu"}]))
    assert_problem(problems, "One of iso_url or iso_urls must be specified")
    assert_problem(problems, "An ssh_username must be specified")


def test_qemu_choices(tmp_path):
    problems = problems_of(tmp_path, template([dict(QEMU, format="vmdk", accelerator="fast")]))
    assert_problem(problems, "invalid format, only 'qcow2' or 'raw' are allowed")
    assert_problem(problems, "invalid accelerator")


@pytest.mark.parametrize(
    ("provisioner", "message"),
    [
        ({"type": "shell"}, "Either a script file or inline script must be specified."),
        (
            {"type": "shell", "inline": ["x"], "script": "x.sh"},
            "Only a script file or an inline script can be specified, not both.",
        ),
        ({"type": "shell", "script": "missing.sh"}, "Bad script 'missing.sh'"),
        ({"type": "file", "destination": "/tmp/x"}, "Source must be specified."),
        ({"type": "file", "source": "x"}, "Destination must be specified."),
        (
            {"type": "shell-local"},
            "Command, Inline, Script and Scripts options cannot all be empty.",
        ),
        (
            {"type": "shell", "inline": ["x"], "pause_before": "xyz"},
            "error decoding 'pause_before': time: invalid duration \"xyz\"",
        ),
        (
            {"type": "shell", "inline": ["x"], "only": ["nope"]},
            "provisioner 'only' specified builder 'nope' not found",
        ),
        (
            {"type": "shell", "inline": ["x"], "environment_vars": ["NOEQUALS"]},
            "Environment variable not in format 'key=value': NOEQUALS",
        ),
    ],
)
def test_provisioner_errors(tmp_path, provisioner, message):
    assert_problem(problems_of(tmp_path, template([QEMU], provisioners=[provisioner])), message)


def test_post_processor_forms_and_errors(tmp_path):
    chains = ["manifest", [{"type": "checksum", "checksum_types": ["sha999"]}, "manifest"]]
    problems = problems_of(tmp_path, template([QEMU], post_processors=chains))
    assert len(problems) == 1
    assert_problem(
        problems, "post-processors[1][0].checksum_types[0]", "Unrecognized checksum type: sha999"
    )
    nested = template([QEMU], post_processors=[[["manifest"]]])
    assert_problem(problems_of(tmp_path, nested), "post-processor chains cannot be nested")


def test_override_merges_per_build(tmp_path):
    provisioner = {"type": "shell", "inline": ["x"], "override": {"qemu": {"inline": ["y"]}}}
    assert problems_of(tmp_path, template([QEMU], provisioners=[provisioner])) == []
    bad = dict(provisioner, override={"nope": {}})
    assert_problem(
        problems_of(tmp_path, template([QEMU], provisioners=[bad])),
        "override specified builder 'nope' not found",
    )


def test_min_packer_version(tmp_path):
    data = template([QEMU])
    data["min_packer_version"] = "9.0.0"
    assert_problem(problems_of(tmp_path, data), "requires Packer version 9.0.0 or higher")


def test_only_selects_builds_to_validate(tmp_path):
    broken = dict(QEMU, name="broken", format="vmdk")
    good = dict(QEMU, name="good")
    assert problems_of(tmp_path, template([broken, good]), only=["good"]) == []


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"os_type": "windows"}, None),
        ({"cloud_environment_name": "AzureEurope"}, ("cloud_environment_name", "AzureEurope")),
        (
            {"client_id": "app", "subscription_id": "sub"},
            ("builders[0].client_id", "client_secret"),
        ),
        (
            {"allowed_inbound_ip_addresses": ["10.0.0.0/8", "300.1.1.1"]},
            ("allowed_inbound_ip_addresses[1]", "'300.1.1.1' is neither"),
        ),
        (
            {
                "build_resource_group_name": "rg-b",
                "location": None,
                "temp_resource_group_name": "t",
            },
            ("temp_resource_group_name", "cannot both be defined"),
        ),
        ({"image_url": "https://x/y.vhd"}, ("image_url", "image_publisher")),
        ({"azure_tags": {f"t{i}": "x" for i in range(16)}}, ("azure_tags", "max of 15 tags")),
        ({"plan_info": {"plan_name": "p"}}, ("plan_info", "missing: plan_product, plan_publisher")),
        (
            {"managed_image_storage_account_type": "premium_lrs"},
            ("managed_image_storage_account_type", "did you mean 'Premium_LRS'?"),
        ),
        (
            {"virtual_network_resource_group_name": "rg-net"},
            ("virtual_network_resource_group_name", "so must virtual_network_name"),
        ),
        (
            {"capture_container_name": "images", "capture_name_prefix": "p"},
            ("builders[0]", "Either a VHD or a managed image can be built, but not both"),
        ),
        (
            {
                "shared_image_gallery_destination": {
                    "gallery_name": "g",
                    "resource_group": "r",
                    "image_name": "i",
                    "image_version": "1.0.0",
                }
            },
            ("shared_image_gallery_destination", "replication_regions"),
        ),
    ],
)
def test_azure_rules(tmp_path, changes, fragments):
    builder = {k: v for k, v in {**AZURE, **changes}.items() if v is not None}
    problems = problems_of(tmp_path, template([builder]))
    if fragments is None:
        assert problems == []
    else:
        assert_problem(problems, *fragments)


def test_qemu_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "SHA256SUMS").write_text("ab" * 32 + "  other.iso\n")
    (tmp_path / "output-exists").mkdir()
    cases = [
        (
            {"iso_checksum": "sha256:" + "a" * 63 + "l"},
            ("iso_checksum", "invalid byte: U+006C 'l'"),
        ),
        ({"iso_checksum": "abcd"}, ("iso_checksum", "Unknown type for checksum abcd")),
        ({"iso_checksum": "file:SHA256SUMS"}, ("iso_checksum", "no checksum found in")),
        ({"iso_checksum": "file:MISSING"}, ("iso_checksum", "Error downloading checksum file")),
        ({"iso_urls": ["a.iso"]}, ("iso_urls", "Only one of iso_url or iso_urls")),
        ({"disk_interface": "sata"}, ("disk_interface", "unrecognized disk interface type")),
        ({"floppy_files": ["nope.xml"]}, ("floppy_files[0]", "Bad Floppy disk file 'nope.xml'")),
        ({"ssh_private_key_file": "id_nope"}, ("ssh_private_key_file", "stat id_nope")),
        ({"communicator": "winrm"}, ("builders[0]", "winrm_username must be specified.")),
        ({"communicator": "winrn"}, ("communicator", "did you mean 'winrm'?")),
        ({"output_directory": "output-exists"}, ("output_directory", "already exists")),
    ]
    for changes, fragments in cases:
        assert_problem(problems_of(tmp_path, template([dict(QEMU, **changes)])), *fragments)
    (tmp_path / "SHA256SUMS").write_text("ab" * 32 + " *base.qcow2\n")
    good = dict(QEMU, iso_checksum="file:SHA256SUMS", communicator="winrm", winrm_username="a")
    assert problems_of(tmp_path, template([good])) == []


@pytest.mark.parametrize(
    ("sections", "fragments"),
    [
        ({"_comment": ["a"]}, ("_comment", "must be a string")),
        ({"min_packer_version": "1.6.x"}, ("min_packer_version", "Malformed version: 1.6.x")),
        ({"min_packer_version": "1.6.6.0"}, None),
        ({"post-processors": "manifest"}, ("post-processors", 'write ["manifest"]')),
        (
            {"post-processors": [{"type": "manifest", "keep_input_artifact": "true"}]},
            ("keep_input_artifact", "expected a boolean"),
        ),
        ({"post-processors": [{"type": "checksum", "checksum_types": "md5,sha256"}]}, None),
        (
            {"provisioners": [{"type": "shell", "inline": ["x"], "only": "qemu"}]},
            None,
        ),
        (
            {
                "provisioners": [
                    {"type": "shell", "inline": ["x"], "only": ["qemu"], "except": ["qemu"]}
                ]
            },
            ("provisioners[0].except", "only one of 'only' or 'except'"),
        ),
        (
            {
                "provisioners": [
                    {
                        "type": "powershell",
                        "inline": ["x"],
                        "elevated_user": "SYSTEM",
                        "execution_policy": "Bypass",
                    }
                ]
            },
            ("execution_policy", "did you mean 'bypass'?"),
        ),
        (
            {"provisioners": [{"type": "shell-local", "inline": ["x"], "only_on": ["Linux"]}]},
            ("only_on[0]", "Invalid OS specified in only_on: 'Linux'"),
        ),
        (
            {
                "provisioners": [
                    {"type": "shell", "inline": ["x"], "override": {"qemu": {"inlin": ["y"]}}}
                ]
            },
            ("provisioners[0].override.qemu.inlin", "unknown configuration key"),
        ),
        (
            {"variables": {"a": "{{build_name}}"}},
            ("variables.a", "error interpolating default value for 'a'", "build_name"),
        ),
        (
            {"variables": {"name": "{{user `prefx`}}", "prefix": "p"}},
            ("variables.name", "variable not set: prefx (did you mean 'prefix'?)"),
        ),
        ({"sensitive-variables": "secret"}, ("sensitive-variables", "list of variable names")),
        (
            {"variables": {"secret": "x"}, "sensitive-variables": ["secrte"]},
            ("sensitive-variables[0]", "did you mean 'secret'?"),
        ),
    ],
)
def test_template_rules(tmp_path, sections, fragments):
    data = {"builders": [dict(QEMU)], **sections}
    problems = problems_of(tmp_path, data)
    if fragments is None:
        assert problems == []
    else:
        assert_problem(problems, *fragments)


def test_build_data_is_refused_in_a_builder_but_kept_for_provisioners(tmp_path):
    data = template(
        [dict(QEMU, vm_name="img-{{build `ID`}}")],
        provisioners=[{"type": "shell", "inline": ["echo {{build `ID`}}"]}],
    )
    problems = problems_of(tmp_path, data)
    assert len(problems) == 1, problems
    assert_problem(
        problems, "builders[0].vm_name", "render 'vm_name'", "only known to provisioners"
    )


def test_duplicate_keys_at_any_depth(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(
        '{"builders": [{"type": "null", "communicator": "none"}],\n'
        ' "post-processors": [{"type": "manifest",\n'
        '   "custom_data": {"k": "1",\n'
        '                   "k": "2"}}]}'
    )
    problems = [str(p) for p in check(path)]
    assert_problem(problems, "t.json:4:", "post-processors[0].custom_data.k", "duplicate field: k")
    assert_problem(problems, "already set on line 3")
