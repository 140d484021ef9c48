"""The report header names the qemu accelerator when the run builds with qemu, and only then."""

from __future__ import annotations

import json


def qemu(**keys: str) -> dict:
    builder = {"type": "qemu", "iso_url": "x.iso", "iso_checksum": "none", "communicator": "none"}
    return {"builders": [{**builder, **keys}]}


def test_header_says_which_accelerator_an_unset_template_gets(pytester):
    (pytester.path / "q.json").write_text(json.dumps(qemu()))
    result = pytester.runpytest_subprocess("--image-template", "q.json", "--collect-only")
    result.stdout.re_match_lines([r"imagebuild: qemu accelerator: (kvm|tcg) \(.+\)$"])


def test_header_repeats_the_templates_own_accelerator(pytester):
    (pytester.path / "q.json").write_text(json.dumps(qemu(accelerator="none")))
    result = pytester.runpytest_subprocess("--image-template", "q.json", "--collect-only")
    result.stdout.fnmatch_lines(["imagebuild: qemu accelerator: none (template's accelerator)"])


def test_no_qemu_line_without_a_qemu_builder(pytester):
    (pytester.path / "n.json").write_text(
        json.dumps({"builders": [{"type": "null", "communicator": "none"}]})
    )
    result = pytester.runpytest_subprocess("--image-template", "n.json", "--collect-only")
    result.stdout.fnmatch_lines(["imagebuild: 1 template*"])
    result.stdout.no_fnmatch_line("*qemu accelerator*")
