"""The file provisioner against a real sshd: Packer's rules for files, directories and slashes."""

# ruff: noqa: F811  (the sshd and comm fixtures are imported, then requested by name)

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_ssh_communicator import Server, comm, sshd  # noqa: F401  (fixtures)

from pytest_imagebuild.communicators.ssh import SSHCommunicator
from pytest_imagebuild.errors import BuildError
from pytest_imagebuild.provisioners import file
from pytest_imagebuild.provisioners.base import ProvisionContext
from pytest_imagebuild.ui import BuildUI


@pytest.fixture
def ctx(comm: SSHCommunicator) -> ProvisionContext:
    plan = SimpleNamespace(name="web", type="qemu")
    return ProvisionContext(plan, BuildUI("web", stream=io.StringIO()), comm)  # type: ignore[arg-type]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    site = tmp_path / "local" / "site"
    (site / "css").mkdir(parents=True)
    (site / "index.html").write_text("<h1>hi</h1>\n")
    (site / "css" / "main.css").write_text("h1 {}\n")
    return site


def test_file_to_path_and_into_directory(ctx: ProvisionContext, tree: Path, tmp_path: Path) -> None:
    guest = tmp_path / "guest"
    file.provision(ctx, {"source": str(tree / "index.html"), "destination": f"{guest}/a.html"})
    file.provision(ctx, {"source": str(tree / "index.html"), "destination": f"{guest}/dir/"})
    assert (guest / "a.html").read_text() == "<h1>hi</h1>\n"
    assert (guest / "dir" / "index.html").read_text() == "<h1>hi</h1>\n"


def test_directory_with_and_without_trailing_slash(
    ctx: ProvisionContext, tree: Path, tmp_path: Path
) -> None:
    guest = tmp_path / "guest"
    file.provision(ctx, {"source": str(tree), "destination": f"{guest}/www"})
    file.provision(ctx, {"source": f"{tree}/", "destination": f"{guest}/flat"})
    assert (guest / "www" / "site" / "css" / "main.css").is_file()
    assert (guest / "flat" / "css" / "main.css").is_file()
    assert (guest / "flat" / "index.html").is_file()


def test_download_file_and_tree(ctx: ProvisionContext, tree: Path, tmp_path: Path) -> None:
    back = tmp_path / "back"
    file.provision(
        ctx,
        {"direction": "download", "source": str(tree / "index.html"), "destination": f"{back}/"},
    )
    file.provision(ctx, {"direction": "download", "source": str(tree), "destination": f"{back}/t"})
    assert (back / "index.html").read_text() == "<h1>hi</h1>\n"
    assert (back / "t" / "css" / "main.css").read_text() == "h1 {}\n"


def test_bad_input(ctx: ProvisionContext, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"Bad source 'nope\.txt'"):
        file.provision(ctx, {"source": "nope.txt", "destination": "/tmp/x"})
    with pytest.raises(BuildError, match="Destination must be specified"):
        file.provision(ctx, {"source": "x"})
    with pytest.raises(BuildError, match="direction 'sideways'"):
        file.provision(ctx, {"source": "x", "destination": "y", "direction": "sideways"})
