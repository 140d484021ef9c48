"""Smoke tests for debian-nginx.json: run with

    pytest --image-template examples/debian-nginx.json examples/test_debian_nginx.py

The image is built once, one VM is booted for this module, and both are torn down afterwards.
"""

from __future__ import annotations

import urllib.request

import pytest

from pytest_imagebuild.launch import LaunchedVM

# testinfra's paramiko backend warns about the guest's host key, new on every boot.
pytestmark = pytest.mark.filterwarnings("ignore:Unknown ssh-ed25519 host key")


def test_nginx_is_running_and_enabled(host) -> None:
    nginx = host.service("nginx")
    assert nginx.is_running
    assert nginx.is_enabled


def test_port_80_is_listening(host) -> None:
    assert host.socket("tcp://0.0.0.0:80").is_listening


def test_page_is_installed(host) -> None:
    page = host.file("/var/www/html/index.html")
    assert page.mode == 0o644
    assert "Built by pytest-imagebuild" in page.content_string


def test_page_is_served_on_the_forwarded_port(vm: LaunchedVM) -> None:
    with urllib.request.urlopen(vm.url(80), timeout=30) as response:
        assert response.status == 200
        assert "Built by pytest-imagebuild" in response.read().decode()
