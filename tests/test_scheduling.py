"""Under pytest-xdist each worker starts with a build, not with two cheap validate items."""

import json
import re

QEMU = {
    "type": "qemu",
    "iso_url": "missing.qcow2",
    "iso_checksum": "none",
    "disk_image": True,
    "ssh_username": "debian",
}


def test_two_builds_on_two_workers_run_on_different_workers(pytester):
    for name in ("a", "b"):
        data = {"builders": [dict(QEMU, name=name)]}
        (pytester.path / f"{name}.json").write_text(json.dumps(data))
    result = pytester.runpytest("--image-template", "*.json", "-n", "2", "-v")
    output = result.stdout.str()
    ran_on = dict(re.findall(r"\[(gw\d)\][^\n]*? (\S+::build\[\w\])", output))
    assert len(ran_on) == 2, output  # one build per worker, not both builds on one


def test_without_xdist_validate_still_comes_before_build(pytester):
    (pytester.path / "a.json").write_text(json.dumps({"builders": [dict(QEMU, name="a")]}))
    listed = pytester.runpytest("--image-template", "a.json", "--collect-only", "-q").stdout.lines
    assert [line for line in listed if "::" in line] == ["a.json::validate", "a.json::build[a]"]
