"""--image-reuse on the Azure path, against the loopback Azure: the image carries its build
key as a tag, a second run finds it by that tag instead of building, the look-up replays
offline from its cassette, and a changed variable builds again (--image-force replaces)."""

from __future__ import annotations

from pathlib import Path

from standin import Standin
from standin.plugin_env import create_image_group, run_pytest

TEMPLATE = Path(__file__).resolve().parents[1] / "examples" / "webserver.json"
IMAGE_GROUP = "Packer-Poc-Mauri-RG"


def _image_tags(azure: Standin) -> dict[str, str]:
    with azure.store.lock:
        image = next(iter(azure.store.of_type("Microsoft.Compute/images", IMAGE_GROUP)))
        return dict(image.tags)


def test_azure_image_is_reused_by_its_key_tag_live_and_replayed(
    fresh_azure: Standin, tmp_path: Path
) -> None:
    azure = fresh_azure
    create_image_group(azure, IMAGE_GROUP)

    def run(*extra: str) -> str:
        code, output = run_pytest(
            azure,
            [
                f"--basetemp={tmp_path / 'base'}",
                "-o", f"image_cassette_dir={tmp_path / 'cassettes'}",
                "-o", f"image_cache_dir={tmp_path / 'cache'}",
                "-v", "-s", "--image-reuse",
                "--image-template", str(TEMPLATE), str(TEMPLATE), *extra,
            ],
            cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, output[-5000:]
        return output

    first = run("--image-record-mode=all")  # live: every look-up asks the stand-in
    assert "Capturing image" in first
    key = _image_tags(azure)["imagebuild-key"]
    assert len(key) == 64
    assert f"key: {key[:12]}" in first

    second = run("--image-record-mode=all")
    assert "Capturing image" not in second
    assert "reusing win2016_iis built" in second and f"key {key[:12]}" in second
    lookups = azure.log.find(method="GET", path_contains=f"/resourceGroups/{IMAGE_GROUP}/resources")
    assert lookups, "the look-up lists the image group's resources"

    replayed = run("--image-record-mode=none", "--image-block-network")
    assert "reusing win2016_iis" in replayed and "Capturing image" not in replayed

    new_size = "vm_size=Standard_D2s_v3"
    changed = run("--image-record-mode=all", "--image-var", new_size, "--image-force")
    assert "Capturing image" in changed
    assert "Deleting the existing managed image win2016_iis" in changed
    assert _image_tags(azure)["imagebuild-key"] != key
