"""Go template control flow ({{if}}, {{range}}, {{with}}, variables, trim markers) at validate
time and at build time, with Go's semantics (checked against `packer console` where installed)."""

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from pytest_imagebuild.template import check, load_template
from pytest_imagebuild.template.gotemplate import Renderer, RenderError

VALUES = {"mode": "fast", "empty": "", "braces": "a{{b}}c"}


def renderer(data=None):
    return Renderer({"user": lambda name: VALUES.get(name, "")}, data or {}, {})


RUN_TIME = {"Path": "/tmp/script_1.sh", "Vars": "A='1' B='2'"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{if true}}a{{else}}b{{end}}", "a"),
        ('{{if eq (user `mode`) "fast"}}F{{else}}S{{end}}', "F"),
        ("{{if user `empty`}}y{{else if true}}z{{end}}", "z"),
        ('{{if 0}}a{{else if ""}}b{{else}}c{{end}}', "c"),
        ('{{with ""}}x{{else}}y{{end}}', "y"),
        ('{{with $y := "v"}}{{$y}}{{.}}{{end}}', "vv"),
        ('{{$x := "a"}}{{$x = "b"}}{{$x}}', "b"),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
        ('{{and 1 0 2}}|{{or 0 "" "q"}}|{{not ""}}', "0|q|true"),
        ("{{if and (user `mode`) (not (user `empty`))}}yes{{end}}", "yes"),
        ('{{ne (user `mode`) "slow"}} {{eq "a" "b" "a"}}', "true true"),
        ('{{len "héllo"}} {{index "abc" 1}} {{slice "abcdef" 1 3}}', "6 98 bc"),
        ('{{printf "%d-%s-%v-%q" 3 "x" true "a\\"b"}}', '3-x-true-"a\\"b"'),
        ('{{printf "%5d|%-4s|%x|%05.2f" 42 "ab" "hi" 3.14159}}', "   42|ab  |6869|03.14"),
        (
            '{{printf "%d" "x"}} {{printf "%s"}} {{printf "a" 1}}',
            "%!d(string=x) %!s(MISSING) a%!(EXTRA int=1)",
        ),
        ('{{print 1 2 "a" 3 "b"}}', "1 2a3b"),
        ("a {{- if true -}} b {{- end -}} c", "abc"),
        ("{{/* c */}}x{{- /* d */ -}} y", "xy"),
        ('{{"}}"}}', "}}"),
        ("{{1.0}} {{2.5}} {{0x10}} {{-3}}", "1 2.5 16 -3"),
    ],
)
def test_control_flow_and_builtins_render_like_go(text, expected):
    assert renderer().render(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{{if true}}x", "template: root:1: unexpected EOF"),
        ("{{end}}", "unexpected {{end}}"),
        ("{{else}}", "unexpected {{else}}"),
        ("{{if true}}{{else}}{{else}}{{end}}", "expected end; found {{else}}"),
        ("{{if}}{{end}}", "missing value for if"),
        ("{{$u}}", 'undefined variable "$u"'),
        ('{{eq 1 "1"}}', "incompatible types for comparison"),
        ('{{range "ab"}}{{end}}', "range can't iterate over ab"),
        ("{{len 3}}", "len of type int"),
        ("line one\n{{if true}}\n{{end}}{{end}}", "template: root:3: unexpected {{end}}"),
    ],
)
def test_bad_control_flow_is_a_go_style_error(text, fragment):
    with pytest.raises(RenderError, match=None) as error:
        renderer().render(text)
    assert fragment in str(error.value)


@pytest.mark.parametrize(
    "text",
    [
        "{{if .Vars}}{{.Vars}} {{end}}{{.Path}}",
        "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'",
        "{{$p := .Path}}sudo {{$p}} {{user `mode`}}",
        "{{$m := user `mode`}}{{if .Vars}}{{$m}} {{.Vars}}{{end}}",
        "{{with .Vars}}env {{.}} {{end}}{{.Path}}",
        '{{if eq (user `mode`) "fast"}}{{.Path}}{{else}}slow{{end}}',
        '{{.Path | printf "%s-%s" (user `mode`)}}',
        '{{user `mode` | printf "%s-%s" .Path}}',
        "{{$x := 1}}{{$x = .Path}}{{$x}}",
        "{{- if .Vars -}}  a  {{- end -}}  b",
        "{{if .Vars}}{{user `braces`}}{{end}}",
        '{{if not .Vars}}{{else if eq (user `empty`) ""}}E{{end}}',
    ],
)
def test_run_time_parts_are_kept_and_render_later_as_in_one_pass(text):
    """Rendered at plan time (no .Path yet), then with the run-time data: the same result as
    rendering once with everything, which is what Packer does."""
    kept = renderer().render(text)
    assert renderer(RUN_TIME).render(kept) == renderer(RUN_TIME).render(text)
    for empty_vars in ({**RUN_TIME, "Vars": ""},):
        assert renderer(empty_vars).render(kept) == renderer(empty_vars).render(text)


def test_known_values_are_written_into_kept_blocks():
    assert renderer().render("{{if .Vars}}{{user `mode`}}{{end}}") == "{{if .Vars}}fast{{end}}"
    assert renderer().render("{{if .Vars}}{{.Vars}}{{end}}") == "{{if .Vars}}{{.Vars}}{{end}}"


@pytest.mark.parametrize(
    "text",
    [
        "{{if true}}" * 300 + "x" + "{{end}}" * 300,
        "{{" + "(" * 500 + "1" + ")" * 500 + "}}",
        "{{if .Vars}}" * 300 + "{{end}}" * 300,
    ],
)
def test_deep_nesting_is_a_problem_not_a_recursion_error(tmp_path, text):
    path = tmp_path / "t.json"
    builder = {"type": "null", "communicator": "none"}
    provisioner = {"type": "shell-local", "inline": ["true"], "execute_command": [text]}
    path.write_text(json.dumps({"builders": [builder], "provisioners": [provisioner]}))
    problems = check(path)
    assert len(problems) == 1, problems
    assert "nesting deeper than 50 levels" in problems[0].message
    assert problems[0].path == "provisioners[0].execute_command[0]"


def template_with(tmp_path, execute_command):
    path = tmp_path / "t.json"
    path.write_text(
        "{\n"
        '  "variables": {"mode": "fast"},\n'
        '  "builders": [{"type": "null", "communicator": "none"}],\n'
        '  "provisioners": [{\n'
        '    "type": "shell-local",\n'
        '    "inline": ["true"],\n'
        f'    "execute_command": {json.dumps(execute_command)}\n'
        "  }]\n"
        "}\n"
    )
    return path


def test_validate_accepts_control_flow_in_execute_command(tmp_path):
    command = [
        "/bin/sh",
        "-c",
        "{{if .Vars}}{{.Vars}} {{end}}{{if eq (user `mode`) `fast`}}sh{{end}} {{.Script}}",
    ]
    assert check(template_with(tmp_path, command)) == []


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        ("{{if .Vars}}sh {{.Script}}", "unexpected EOF"),
        ("sh {{.Script}}{{end}}", "unexpected {{end}}"),
        ("{{if .Vars}}{{nosuch}}{{end}}", 'function "nosuch" not defined'),
    ],
)
def test_broken_control_flow_is_a_problem_with_file_line_and_key(tmp_path, command, fragment):
    path = template_with(tmp_path, ["/bin/sh", "-c", command])
    problems = check(path)
    assert [(p.line, p.path) for p in problems] == [(7, "provisioners[0].execute_command[2]")]
    assert fragment in problems[0].message
    assert str(problems[0]).startswith(f"{path}:7: provisioners[0].execute_command[2]:")


def test_shell_local_runs_an_execute_command_with_control_flow(tmp_path):
    """Build time: shell-local renders execute_command with .Vars and .Script, as Packer does."""
    from pytest_imagebuild.provisioners.base import ProvisionContext
    from pytest_imagebuild.provisioners.shell_local import provision
    from pytest_imagebuild.template import plan_builds
    from pytest_imagebuild.ui import BuildUI

    out = tmp_path / "out.txt"
    command = [
        "/bin/sh",
        "-c",
        "{{if .Vars}}env {{.Vars}} {{end}}{{if eq (user `mode`) `fast`}}sh{{else}}false{{end}} "
        "{{.Script}} > " + str(out),
    ]
    path = template_with(tmp_path, command)
    template = load_template(path)
    plan = plan_builds(template)[0][0]
    stage = plan.provisioners[0]
    stage.config["inline"] = ['echo "mode=$MODE"']
    stage.config["environment_vars"] = ["MODE=fast"]
    provision(ProvisionContext(plan, BuildUI("b", set()), None), stage.config)
    assert out.read_text() == "mode=fast\n"


PACKER_CONSOLE_CASES = [
    '{{if eq (user `mode`) "fast"}}F{{else}}S{{end}}',
    "{{if user `empty`}}y{{else if true}}z{{end}}",
    '{{printf "%d-%s-%v-%q" 3 "x" true "a\\"b"}}',
    "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}",
    '{{and 1 0 2}}|{{or 0 "" "q"}}|{{not ""}}',
    '{{len "héllo"}} {{index "abc" 1}} {{slice "abcdef" 1 3}}',
    '{{print 1 2 "a" 3 "b"}} {{print nil}}',
    '{{printf "%5d|%-4s|%x|%05.2f|%q|%c" 42 "ab" "hi" 3.14159 5 65}}',
    '{{printf "%6.2f|%e|%g" 3.14159 1234.5 0.5}}',
    '{{html "<a href=\\"x\\">&\'"}} {{urlquery "a b&c"}}',
    "a {{- if true -}} b {{- end -}} c {{with $y := `v`}}{{$y}}{{.}}{{end}}",
    '{{lt "a" "b"}} {{ge 2 1}} {{gt 1.5 2.5}} {{eq "a" "b" "a"}}',
]


@pytest.mark.skipif(shutil.which("packer") is None, reason="packer is not installed")
def test_same_output_as_packer_console(tmp_path):
    """Packer's own template engine (`packer console` on a legacy JSON template) as the oracle."""
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "variables": {"mode": "fast", "empty": ""},
                "builders": [{"type": "null", "communicator": "none"}],
            }
        )
    )

    def packer(text):
        result = subprocess.run(
            ["packer", "console", path.name],
            input=text + "\n",
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return result.stdout.strip()

    with ThreadPoolExecutor(max_workers=4) as pool:
        theirs = list(pool.map(packer, PACKER_CONSOLE_CASES))
    ours = [renderer().render(text).strip() for text in PACKER_CONSOLE_CASES]
    assert ours == theirs
