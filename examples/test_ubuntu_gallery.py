"""Smoke tests for ubuntu-gallery.json: a VM from the gallery version serves nginx on port 80.

`host` is a testinfra host over SSH, logged in with the launch's own key pair; `vm` gives the
public IP. The image was deprovisioned with waagent, so the build's admin account must be
gone from it.
"""

from __future__ import annotations

import time

import requests


def test_nginx_is_installed(host):
    assert host.package("nginx").is_installed


def test_nginx_is_running_and_enabled(host):
    nginx = host.service("nginx")
    assert nginx.is_running
    assert nginx.is_enabled


def test_http_answers_200_on_port_80(vm):
    deadline = time.monotonic() + 120
    while True:  # nginx may still be starting right after SSH answers
        try:
            response = requests.get(vm.url(80), timeout=10)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
    assert response.status_code == 200
    assert "Built by pytest-imagebuild" in response.text


def test_the_deprovisioned_build_admin_is_gone(host, image):
    assert image.data["username"] == "packer"
    assert not host.user("packer").exists
    assert not host.file("/home/packer").exists


def test_the_vm_admin_logs_in_with_its_own_key(host, vm):
    assert host.user().name == vm.username
