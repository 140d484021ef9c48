"""Smoke tests for webserver.json: a VM from the captured image serves IIS on port 80.

`host` is a testinfra host over WinRM (commands run through cmd.exe, so PowerShell is
called explicitly); `vm` gives the public IP and the per-run credentials. Both come from
pytest-imagebuild, which builds the image once, boots one VM for this module and deletes
its resource group afterwards, whether these tests pass or not.
"""

from __future__ import annotations

import time

import requests


def powershell(host, script: str) -> str:
    result = host.run(f'powershell -NoProfile -NonInteractive -Command "{script}"')
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def test_iis_feature_is_installed(host):
    assert powershell(host, "(Get-WindowsFeature -Name Web-Server).InstallState") == "Installed"


def test_w3svc_is_running_and_starts_automatically(host):
    assert powershell(host, "(Get-Service -Name W3SVC).Status") == "Running"
    assert powershell(host, "(Get-Service -Name W3SVC).StartType") == "Automatic"


def test_http_answers_200_on_port_80(vm):
    deadline = time.monotonic() + 120
    while True:  # IIS may still be starting right after the VM reports running
        try:
            response = requests.get(vm.url(80), timeout=10)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
    assert response.status_code == 200
    assert "Built by pytest-imagebuild" in response.text
