"""Many templates in one folder: collected in linear time, with the same ids, order and tree."""

import json

QEMU = {
    "type": "qemu",
    "iso_url": "base.qcow2",
    "iso_checksum": "none",
    "disk_image": True,
    "ssh_username": "debian",
}

COUNT_OFFERS = """
import collections
OFFERED = collections.Counter()

def pytest_collect_file(file_path, parent):
    OFFERED[file_path.name] += 1

def pytest_collection_finish(session):
    print("most offered:", max(OFFERED.values()))
"""


def write_templates(pytester, folder, names):
    (pytester.path / folder).mkdir(exist_ok=True)
    for name in names:
        data = {"builders": [dict(QEMU, name=name)]}
        (pytester.path / folder / f"{name}.json").write_text(json.dumps(data))


def test_each_file_of_the_folder_is_offered_to_plugins_once(pytester):
    write_templates(pytester, "images", [f"t{i:02d}" for i in range(30)])
    (pytester.path / "images" / "notes.txt").write_text("not a template\n")
    pytester.makeconftest(COUNT_OFFERS)
    result = pytester.runpytest("--image-template", "images/*.json", "-k", "validate", "-s")
    result.assert_outcomes(passed=30)
    result.stdout.fnmatch_lines(["most offered: 1"])


def test_ids_order_and_tree_match_one_template_at_a_time(pytester):
    names = ["b", "a", "c"]
    write_templates(pytester, "images", names)
    pytester.makepyfile(**{"images/test_a": "def test_smoke(image_template):\n    pass\n"})
    (pytester.path / "images" / "other.json").write_text("{}")
    args = [arg for name in names for arg in ("--image-template", f"images/{name}.json")]
    listed = pytester.runpytest(*args, "--collect-only", "-q").stdout.lines
    ids = [line for line in listed if "::" in line]
    assert ids == [
        "images/b.json::validate",
        "images/b.json::build[b]",
        "images/a.json::validate",
        "images/a.json::build[a]",
        "images/c.json::validate",
        "images/c.json::build[c]",
        "images/test_a.py::test_smoke",
    ]
    tree = pytester.runpytest(*args, "--collect-only").stdout.str()
    assert "<Dir images>" in tree and "other.json" not in tree


def test_a_template_named_twice_is_validated_once(pytester):
    write_templates(pytester, "images", ["a", "b"])
    result = pytester.runpytest(
        "images/a.json", "images/a.json", "images/b.json",
        "--image-template", "images/*.json", "-k", "validate",
    )
    result.assert_outcomes(passed=2)
