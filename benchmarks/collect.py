"""How much faster is validating templates with pytest-imagebuild than with `packer validate`?

Generates N realistic Packer JSON templates (azure-arm Linux/Windows, qemu cloud-image/ISO) in a
temporary directory, then times, on the same files:

* check() of pytest_imagebuild.template on each file, in this process;
* `python -m pytest -p no:cacheprovider --image-template '<dir>/*.json' -q -k validate`, i.e.
  collection plus one `<file>::validate` item per template, in a subprocess;
* `packer validate <file>` for each file, one after the other, as a user would run it.

Each size (100 and 500 templates by default) is timed on its own; `packer validate` is timed
on the first --packer-sample files of each size (a Go process per file: its time per file does
not depend on how many there are) and its per-file time is the peer of the plugin's.
Goal: `pytest -k validate` at least 50x faster per template than `packer validate`.

    python benchmarks/collect.py [--counts 100 500] [--packer-sample 100] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.machine import describe_machine  # noqa: E402

GOAL = 50.0
PACKER_TIMEOUT = 60

HELPER_FILES = {
    "files/scripts/setup.sh": "#!/bin/sh\nset -eu\nsudo apt-get update\nsudo apt-get -y upgrade\n",
    "files/scripts/cleanup.sh": "#!/bin/sh\nsudo apt-get clean\nsudo rm -rf /tmp/*\n",
    "files/scripts/app.sh": "#!/bin/sh\nsudo install -d /opt/app\n",
    "files/scripts/install-iis.ps1": "Install-WindowsFeature -Name Web-Server\n",
    "files/scripts/sysprep.ps1": "& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe\n",
    "files/scripts/notify.sh": "#!/bin/sh\necho built\n",
    "files/seed/user-data": "#cloud-config\nssh_pwauth: true\n",
    "files/seed/meta-data": "instance-id: bench\n",
    "files/http/preseed.cfg": "d-i passwd/username string packer\n",
    "files/motd.txt": "built by packer\n",
}
FILES = "{{template_dir}}/files"
AZURE_VARIABLES = {
    "client_id": "{{env `ARM_CLIENT_ID`}}",
    "client_secret": "{{env `ARM_CLIENT_SECRET`}}",
    "subscription_id": "{{env `ARM_SUBSCRIPTION_ID`}}",
    "tenant_id": "{{env `ARM_TENANT_ID`}}",
}
AZURE_CREDENTIALS = {name: f"{{{{user `{name}`}}}}" for name in AZURE_VARIABLES}
WAAGENT = {
    "type": "shell",
    "execute_command": "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'",
    "inline": ["/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync"],
    "inline_shebang": "/bin/sh -x",
}


def linux_provisioners(rng: random.Random, index: int) -> list[dict]:
    steps: list[dict] = [
        {"type": "shell", "script": f"{FILES}/scripts/setup.sh", "pause_before": "5s"},
        {"type": "file", "source": f"{FILES}/motd.txt", "destination": "/tmp/motd"},
        {
            "type": "shell",
            "environment_vars": [f"BUILD_INDEX={index}", "BUILD={{build_name}}"],
            "inline": ["sudo mv /tmp/motd /etc/motd", "echo build {{user `image_name`}}"],
        },
    ]
    for extra in range(rng.randint(1, 4)):
        steps.append(
            {
                "type": "shell",
                "max_retries": rng.randint(0, 3),
                "timeout": f"{rng.randint(5, 30)}m",
                "inline": [f"echo step {extra}", f"sudo apt-get -y install pkg{extra}-{index}"],
            }
        )
    steps.append({"type": "shell", "scripts": [f"{FILES}/scripts/app.sh"]})
    return steps


def post_processors(rng: random.Random, index: int) -> list:
    chain = [
        {"type": "checksum", "checksum_types": ["sha256"], "keep_input_artifact": True},
        {"type": "manifest", "output": f"manifest-{index}.json", "strip_path": True},
    ]
    out: list = [chain]
    if rng.random() < 0.5:
        out.append({"type": "shell-local", "script": f"{FILES}/scripts/notify.sh"})
    return out


def azure_linux(rng: random.Random, index: int) -> dict:
    sku = rng.choice(["20_04-lts-gen2", "18.04-LTS", "22_04-lts"])
    offer = "UbuntuServer" if sku == "18.04-LTS" else "0001-com-ubuntu-server-focal"
    return {
        "description": f"Ubuntu image {index} for Azure",
        "variables": {
            **AZURE_VARIABLES,
            "image_name": f"ubuntu-app-{index}",
            "location": "westeurope",
        },
        "sensitive-variables": ["client_secret"],
        "builders": [
            {
                "type": "azure-arm",
                "name": f"azure-{index}",
                **AZURE_CREDENTIALS,
                "os_type": "Linux",
                "image_publisher": "Canonical",
                "image_offer": offer,
                "image_sku": sku,
                "managed_image_name": "{{user `image_name`}}-{{timestamp}}",
                "managed_image_resource_group_name": "rg-images",
                "location": "{{user `location`}}",
                "vm_size": rng.choice(["Standard_B2s", "Standard_D2s_v3", "Standard_D4s_v3"]),
                "os_disk_size_gb": rng.choice([30, 64, 128]),
                "ssh_username": "packer",
                "ssh_timeout": "20m",
                "azure_tags": {"index": str(index), "built": "{{isotime `2006-01-02`}}"},
            }
        ],
        "provisioners": [*linux_provisioners(rng, index), WAAGENT],
        "post-processors": [{"type": "manifest", "output": f"manifest-{index}.json"}],
    }


def azure_windows(rng: random.Random, index: int) -> dict:
    return {
        "_comment": f"Windows Server with IIS, image {index}",
        "variables": {**AZURE_VARIABLES, "image_name": f"win-iis-{index}"},
        "sensitive-variables": ["client_secret"],
        "builders": [
            {
                "type": "azure-arm",
                "name": f"windows-{index}",
                **AZURE_CREDENTIALS,
                "os_type": "Windows",
                "image_publisher": "MicrosoftWindowsServer",
                "image_offer": "WindowsServer",
                "image_sku": rng.choice(["2019-Datacenter", "2022-datacenter-azure-edition"]),
                "managed_image_name": "{{user `image_name`}}",
                "managed_image_resource_group_name": "rg-images",
                "build_resource_group_name": "rg-packer-build",
                "vm_size": "Standard_D2s_v3",
                "communicator": "winrm",
                "winrm_use_ssl": True,
                "winrm_insecure": True,
                "winrm_timeout": "30m",
                "winrm_username": "packer",
            }
        ],
        "provisioners": [
            {"type": "powershell", "script": f"{FILES}/scripts/install-iis.ps1"},
            {"type": "windows-restart", "restart_timeout": "15m"},
            {"type": "windows-shell", "inline": ["ipconfig /all"]},
            {"type": "powershell", "inline": [f"Write-Output 'image {index}'"], "max_retries": 2},
            {"type": "powershell", "script": f"{FILES}/scripts/sysprep.ps1", "timeout": "45m"},
        ],
    }


def qemu_cloud(rng: random.Random, index: int) -> dict:
    name = f"cloud-{index}"
    return {
        "variables": {
            "image_name": name,
            "memory": str(rng.choice([1024, 2048, 4096])),
            "disk_size": "8G",
        },
        "builders": [
            {
                "type": "qemu",
                "name": name,
                "iso_url": f"{FILES}/base.qcow2",
                "iso_checksum": "none",
                "disk_image": True,
                "use_backing_file": True,
                "format": "qcow2",
                "disk_size": "{{user `disk_size`}}",
                "memory": "{{user `memory`}}",
                "cpus": rng.randint(1, 4),
                "headless": True,
                "cd_files": [f"{FILES}/seed/user-data", f"{FILES}/seed/meta-data"],
                "cd_label": "cidata",
                "qemu_img_args": {"create": ["-F", "qcow2"]},
                "output_directory": f"output-{name}",
                "ssh_username": "packer",
                "ssh_password": "packer",
                "ssh_timeout": "10m",
                "shutdown_command": "sudo shutdown -P now",
            }
        ],
        "provisioners": [
            {"type": "shell", "inline": ["cloud-init status --wait"]},
            *linux_provisioners(rng, index),
            {"type": "shell", "script": f"{FILES}/scripts/cleanup.sh"},
        ],
        "post-processors": post_processors(rng, index),
    }


def qemu_iso(rng: random.Random, index: int) -> dict:
    name = f"debian-{index}"
    return {
        "variables": {"image_name": name, "iso": "debian-10.13.0-amd64-netinst.iso"},
        "builders": [
            {
                "type": "qemu",
                "name": name,
                "iso_urls": [f"{FILES}/{{{{user `iso`}}}}", "https://example.org/{{user `iso`}}"],
                "iso_checksum": "sha256:" + f"{rng.getrandbits(256):064x}",
                "output_directory": f"output-{name}",
                "format": "qcow2",
                "disk_size": "20480M",
                "memory": 1024,
                "headless": True,
                "http_directory": f"{FILES}/http",
                "boot_wait": "5s",
                "boot_command": [
                    "<esc><wait>",
                    "auto preseed/url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg <enter>",
                ],
                "ssh_username": "packer",
                "ssh_password": "packer",
                "ssh_timeout": "30m",
                "shutdown_command": "echo packer | sudo -S shutdown -P now",
            }
        ],
        "provisioners": linux_provisioners(rng, index),
        "post-processors": post_processors(rng, index),
    }


KINDS = [azure_linux, azure_windows, qemu_cloud, qemu_iso]


def generate(directory: Path, count: int) -> list[Path]:
    for relative, text in HELPER_FILES.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    paths = []
    for index in range(count):
        rng = random.Random(index)
        kind = KINDS[index % len(KINDS)]
        template = kind(rng, index)
        path = directory / f"t{index:04d}-{kind.__name__.replace('_', '-')}.json"
        path.write_text(json.dumps(template, indent=2) + "\n")
        paths.append(path)
    return paths


def hermetic_environ(cache_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARM_", "PKR_VAR_"))}
    env.update(CHECKPOINT_DISABLE="1", PACKER_CACHE_DIR=cache_dir)
    return env


def time_check(paths: list[Path]) -> tuple[float, int]:
    sys.path.insert(0, str(REPO))
    from pytest_imagebuild.template import check

    start = time.perf_counter()
    invalid = sum(1 for path in paths if check(path))
    return time.perf_counter() - start, invalid


def time_pytest(directory: Path, count: int) -> tuple[float, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user runs it: bytecode cached
    env.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "imagebuild-pyc"))
    command = [
        sys.executable,
        *("-m", "pytest", "-p", "no:cacheprovider"),
        *("--image-template", f"{directory}/*.json", "-q", "-k", "validate"),
    ]
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    tail = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    passed = re.search(r"(\d+) passed", tail)
    if result.returncode != 0 or not passed or int(passed.group(1)) != count:
        details = (result.stdout + result.stderr).strip().splitlines()[-15:]
        tail = f"exit {result.returncode}: {tail}\n    " + "\n    ".join(details)
    return elapsed, tail


def time_packer(paths: list[Path], directory: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="packer-cache-") as cache_dir:
        env = hermetic_environ(cache_dir)
        invalid = 0
        start = time.perf_counter()
        for path in paths:
            result = subprocess.run(
                ["packer", "validate", path.name],
                cwd=directory,
                env=env,
                capture_output=True,
                timeout=PACKER_TIMEOUT,
                check=False,
            )
            invalid += result.returncode != 0
        return time.perf_counter() - start, invalid


def measure(count: int, packer_sample: int, keep: bool) -> list[tuple[str, int, float]]:
    """(tool, files timed, seconds) for one size."""
    directory = Path(tempfile.mkdtemp(prefix="imagebuild-bench-"))
    try:
        paths = generate(directory, count)
        size = sum(path.stat().st_size for path in paths) // len(paths)
        print(f"{len(paths)} templates (about {size} bytes each) in {directory}")
        check_seconds, check_invalid = time_check(paths)
        time_pytest(directory, len(paths))  # warm-up: bytecode cache, file cache
        pytest_seconds, pytest_summary = time_pytest(directory, len(paths))
        print(f"  pytest: {pytest_summary}")
        if check_invalid:
            print(f"  warning: check() reported problems in {check_invalid} generated templates")
        rows = [
            ("check() in-process", len(paths), check_seconds),
            ("pytest -k validate", len(paths), pytest_seconds),
        ]
        if shutil.which("packer") and packer_sample:
            sample = paths[:packer_sample]
            packer_seconds, packer_invalid = time_packer(sample, directory)
            if packer_invalid:
                print(f"  warning: packer rejected {packer_invalid} generated templates")
            rows.append(("packer validate", len(sample), packer_seconds))
        return rows
    finally:
        if keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 500], help="sizes")
    parser.add_argument("--packer-sample", type=int, default=100, help="files packer validates")
    parser.add_argument("--keep", action="store_true", help="keep the generated templates")
    args = parser.parse_args()
    print(describe_machine())
    if not shutil.which("packer"):
        print("packer is not on PATH: only the plugin is measured")
    results = {count: measure(count, args.packer_sample, args.keep) for count in args.counts}
    print()
    header = f"{'templates':>9}  {'tool':<22}{'files':>7}{'total s':>10}{'per file ms':>13}"
    print(header + f"{'packer/tool':>13}")
    verdicts = []
    for count, rows in results.items():
        packer = next((s / n for tool, n, s in rows if tool == "packer validate"), None)
        for tool, files, seconds in rows:
            per_file = seconds / files
            ratio = f"{packer / per_file:.1f}x" if packer else "-"
            figures = f"{files:>7}{seconds:>10.2f}{per_file * 1000:>13.2f}{ratio:>13}"
            print(f"{count:>9}  {tool:<22}{figures}")
            if packer and tool == "pytest -k validate":
                verdicts.append(packer / per_file >= GOAL)
    print()
    if verdicts:
        verdict = "met" if all(verdicts) else "NOT met"
        print(
            f"Goal: pytest -k validate at least {GOAL:.0f}x faster per template than "
            f"packer validate, at every size: {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
