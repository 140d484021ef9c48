"""The README's list of types and keys matches the catalogue, so it cannot go stale."""

from __future__ import annotations

from pathlib import Path

from pytest_imagebuild import docs
from pytest_imagebuild.catalogue import catalogue
from pytest_imagebuild.template.fields import PROVISIONER_FIELDS

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_every_type_and_key_of_the_catalogue():
    block = docs.current_block(README.read_text(encoding="utf-8"))
    assert block is not None, "README lost its catalogue markers"
    assert block == docs.render(), (
        "README's list of types and keys is stale: run `python -m pytest_imagebuild.docs`"
    )


def test_the_list_names_each_builder_provisioner_and_post_processor_with_its_keys():
    block = docs.render()
    types = catalogue()
    for name in types.builders:
        assert f"builder `{name}`" in block
        for key in types.builder_table(name, "fields", {}):
            assert f"`{key}`" in block
    for name in types.provisioners:
        assert f"provisioner `{name}`" in block
    for name in types.post_processors:
        assert f"post-processor `{name}`" in block
    assert "`valid_exit_codes`" in block and "`expect_disconnect`" in block


def test_a_key_added_to_the_catalogue_shows_as_a_stale_readme(monkeypatch):
    before = docs.render()
    grown = {**PROVISIONER_FIELDS["file"], "new_key": "str"}
    monkeypatch.setitem(PROVISIONER_FIELDS, "file", grown)
    assert docs.render() != before and "`new_key`" in docs.render()


def test_the_command_rewrites_only_the_block(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{docs.START}\nold list\n{docs.END}\n\nAfter.\n")
    assert docs.main([str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\n") and text.endswith(f"{docs.END}\n\nAfter.\n")
    assert docs.current_block(text) == docs.render() and "old list" not in text
    assert "updated" in capsys.readouterr().out
