"""Record the shipped cassettes of the Azure examples against the loopback Azure.

    python -m standin.record_examples [--cassette-dir DIR] [--realistic] [--example NAME]

examples/webserver.json (Windows, simulated guest) and examples/ubuntu-gallery.json (Linux: a
real QEMU guest, so it takes minutes; its gallery is created first, as a user would).

Starts a stand-in, points the plugin at it through the environment (exactly as a user points
it at a real subscription), and runs the main job with --image-record-mode=rewrite. With
--realistic the stand-in keeps Azure-like delays (Retry-After, several polls per operation).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import Standin, start_standin
from .plugin_env import create_image_group, plugin_environment
from .settings import LRO_KINDS

ROOT = Path(__file__).resolve().parents[1]
# Polls per operation while recording: the first says InProgress, the second Succeeded.
MIN_RECORDED_POLLS = 2


def standin_environment(standin: Standin) -> dict[str, str]:
    """What a user would export for a real subscription, aimed at the stand-in; also creates
    the group the image goes into, which must exist beforehand (as in Packer)."""
    create_image_group(standin, "Packer-Poc-Mauri-RG")
    return {**offline_environment(), **plugin_environment(standin)}


def offline_environment() -> dict[str, str]:
    """This environment without Azure credentials or endpoints: what a fresh CI machine has."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ARM_", "AZURE_", "IMAGEBUILD_AZURE_"))
    }


EXAMPLES = ("webserver", "ubuntu-gallery")


def run_main_job(
    env: dict[str, str],
    cassette_dir: Path,
    mode: str,
    *extra: str,
    template: str = "examples/webserver.json",
) -> tuple[int, float, str]:
    """Run `pytest --image-template <template>`; exit code, seconds, output."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--image-template",
        template,
        f"--image-record-mode={mode}",
        "-o",
        f"image_cassette_dir={cassette_dir}",
        *extra,
    ]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr


def recording_options(realistic: bool) -> dict[str, Any]:
    """Stand-in settings for recording: even the quick mode answers every long-running
    operation with at least one `InProgress` poll before it succeeds, as Azure does, so the
    cassettes carry real polling (replay does not wait: the plugin's clock is virtual)."""
    if realistic:
        return {"fast": False}
    return {"fast": True, "polls": dict.fromkeys(LRO_KINDS, MIN_RECORDED_POLLS)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cassette-dir", type=Path, default=ROOT / "cassettes")
    parser.add_argument("--realistic", action="store_true", help="keep Azure-like delays")
    parser.add_argument("--example", choices=EXAMPLES, action="append", help="default: all")
    args = parser.parse_args()
    worst = 0
    for example in args.example or EXAMPLES:
        with start_standin(**recording_options(args.realistic)) as standin:
            env = standin_environment(standin)
            if example == "ubuntu-gallery":
                create_example_gallery(standin)
            code, seconds, output = run_main_job(
                env, args.cassette_dir.resolve(), "rewrite", template=f"examples/{example}.json"
            )
        print(output)
        print(f"{example}: recorded in {seconds:.1f} s, exit code {code}")
        worst = worst or code
    return worst


def create_example_gallery(standin: Standin) -> None:
    """The gallery and Linux image definition examples/ubuntu-gallery.json publishes to."""
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute import models as cm

    create_image_group(standin, "Packer-Gallery-RG")
    compute = ComputeManagementClient(
        ClientSecretCredential(**standin.credential_kwargs()),
        standin.subscription_id,
        **standin.client_kwargs(),
    )
    compute.galleries.begin_create_or_update(
        "Packer-Gallery-RG", "packer_gallery", cm.Gallery(location="eastus2")
    ).result()
    compute.gallery_images.begin_create_or_update(
        "Packer-Gallery-RG",
        "packer_gallery",
        "ubuntu_nginx",
        cm.GalleryImage(
            location="eastus2",
            os_type="Linux",
            os_state="Generalized",
            identifier=cm.GalleryImageIdentifier(
                publisher="pytest-imagebuild", offer="ubuntu-nginx", sku="22_04-lts"
            ),
        ),
    ).result()


if __name__ == "__main__":
    raise SystemExit(main())
