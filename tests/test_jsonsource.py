"""JSON parsing: positions for every key, and syntax errors a user can act on."""

import pytest

from pytest_imagebuild.errors import TemplateError
from pytest_imagebuild.template.jsonsource import format_path, parse_json

SEED = (
    '{ "builders": [ { "type": "azure-arm",\n'
    '  \u201cclient_id": "xxx", \u201cclient_secret": "xxx" } ] }\n'
)


def test_every_key_keeps_its_line():
    value, source = parse_json(
        '{\n "builders": [\n  {"type": "qemu",\n   "name": "a"}\n ]\n}', "t.json"
    )
    assert value == {"builders": [{"type": "qemu", "name": "a"}]}
    assert source.line_of(("builders",)) == 2
    assert source.line_of(("builders", 0, "name")) == 4
    assert source.line_of(("builders", 0, "missing")) == 3


def test_typographic_quote_from_the_seed_template_is_named_with_its_position():
    with pytest.raises(TemplateError) as error:
        parse_json(SEED, "webserver.json")
    message = str(error.value)
    assert "webserver.json:2" in message
    assert "typographic quote '\u201c'" in message
    assert "line 2, column 3" in message
    assert "\u201cclient_id" in message  # the offending line is shown


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"a": 1,}', "invalid character '}', expected a double-quoted key at line 1, column 9"),
        ('{"a": 1 "b": 2}', "expected ',' or '}' after an object member at line 1, column 9"),
        ('{"a": [1, 2}', "expected ',' or ']' after an array element"),
        ('{"a": "x', "string not closed"),
        ('{"a": tru}', "invalid character 't', expected a value"),
        ("", "unexpected end of file"),
        ('{"a": 1} x', "expected end of file after the top-level value"),
    ],
)
def test_syntax_errors_show_line_column_and_a_caret(text, fragment):
    with pytest.raises(TemplateError) as error:
        parse_json(text, "bad.json")
    message = str(error.value)
    assert fragment in message
    assert message.rstrip().endswith("^")


def test_paths_render_like_users_write_them():
    assert format_path(("builders", 0, "client_id")) == "builders[0].client_id"
    assert format_path(("post-processors", 1, 0)) == "post-processors[1][0]"


def test_duplicate_keys_are_recorded_with_both_lines():
    _, source = parse_json('{"a": {"b": 1,\n "b": 2},\n "a": 3}', "t.json")
    assert source.duplicates == [(("a", "b"), 1), (("a",), 1)]
    assert source.line_of(("a",)) == 3


def test_deep_nesting_is_a_problem_not_a_recursion_error(tmp_path):
    from pytest_imagebuild.template import check

    path = tmp_path / "t.json"
    builder = '{"type": "null", "communicator": "none", "ssh_local_tunnels": '
    path.write_text('{"builders": [' + builder + "[" * 5000 + "]" * 5000 + "}]}")
    (problem,) = check(path)
    assert "nested more than 100 deep" in problem.message
    path.write_text('{"builders": [' + builder + "[" * 95 + "]" * 95 + "}]}")
    assert all("nested" not in p.message for p in check(path))
