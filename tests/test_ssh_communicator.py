"""The SSH communicator against a real OpenSSH server on 127.0.0.1 (Debian's openssh-server)."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest

from pytest_imagebuild import process
from pytest_imagebuild.communicators.keys import KeyPair, generate_key_pair, temporary_key_pair
from pytest_imagebuild.communicators.ssh import SSHCommunicator
from pytest_imagebuild.errors import BuildError, ImagebuildError
from pytest_imagebuild.qemu.machine import free_port

SSHD = "/usr/sbin/sshd"


@dataclass
class Server:
    port: int
    user: str
    client_key: KeyPair
    start: Callable[[], None]


def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Server]:
    """An sshd for the current user, key auth only; ``start`` may be deferred by a test."""
    if not os.path.exists(SSHD):
        message = "sshd is missing: apt-get install openssh-server"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    work = tmp_path / "sshd"
    work.mkdir()
    host_key = generate_key_pair(work, "host_key")
    client_key = generate_key_pair(work, "client_key")
    (work / "authorized_keys").write_text(client_key.public_key + "\n")
    port, user = free_port(), getpass.getuser()
    config = work / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key.private_key_file}\n"
        f"AuthorizedKeysFile {work}/authorized_keys\nPidFile {work}/sshd.pid\n"
        f"UsePAM no\nStrictModes no\nAllowUsers {user}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication yes\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n"
    )
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
    procs: list = []

    def start() -> None:
        procs.append(process.spawn([SSHD, "-D", "-e", "-f", config], log_path=work / "sshd.log"))
        wait_listening(port)

    yield Server(port, user, client_key, start)
    for proc in procs:
        process.terminate(proc, grace=2)


@pytest.fixture
def comm(sshd: Server) -> Iterator[SSHCommunicator]:
    sshd.start()
    communicator = SSHCommunicator(
        "127.0.0.1", sshd.port, sshd.user, private_key_file=sshd.client_key.private_key_file
    )
    communicator.wait_ready(timeout=20)
    yield communicator
    communicator.close()


def test_run_streams_lines_in_order_and_returns_status(comm: SSHCommunicator) -> None:
    lines: list[str] = []
    script = "printf 'a\\nb\\n'; sleep 0.2; echo c >&2; sleep 0.2; printf 'é partial'; exit 5"
    assert comm.run(script, on_output=lines.append) == 5
    assert lines == ["a", "b", "c", "é partial"]
    assert comm.run("true") == 0


def test_run_streams_long_output_completely(comm: SSHCommunicator) -> None:
    lines: list[str] = []
    assert comm.run("seq 1 50000", on_output=lines.append) == 0
    assert lines == [str(i) for i in range(1, 50001)]


def test_run_timeout(comm: SSHCommunicator) -> None:
    started = time.monotonic()
    with pytest.raises(BuildError, match=r"`sleep 30` still running after 1s"):
        comm.run("sleep 30", timeout=1)
    assert time.monotonic() - started < 10
    assert comm.run("echo still usable") == 0


def test_upload_and_download_files_and_trees(comm: SSHCommunicator, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / "top.txt").write_text("top")
    (tree / "sub" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tree / "sub" / "run.sh").chmod(0o755)
    (tree / "sub" / "deeper" / "data.bin").write_bytes(bytes(range(256)) * 1000)
    remote = tmp_path / "remote"
    remote.mkdir()

    comm.upload(tree, f"{remote}/tree")
    comm.upload(tree / "top.txt", f"{remote}/single.txt")
    assert (remote / "single.txt").read_text() == "top"
    assert (remote / "tree" / "sub" / "deeper" / "data.bin").read_bytes() == bytes(
        range(256)
    ) * 1000
    assert stat.S_IMODE((remote / "tree" / "sub" / "run.sh").stat().st_mode) == 0o755
    assert comm.run(f"{remote}/tree/sub/run.sh") == 0

    back = tmp_path / "back"
    comm.download(f"{remote}/tree", back / "tree")
    comm.download(f"{remote}/single.txt", back / "one" / "single.txt")
    assert sorted(p.relative_to(back / "tree").as_posix() for p in (back / "tree").rglob("*")) == [
        "sub",
        "sub/deeper",
        "sub/deeper/data.bin",
        "sub/run.sh",
        "top.txt",
    ]
    assert (back / "tree" / "sub" / "deeper" / "data.bin").read_bytes() == bytes(range(256)) * 1000
    assert (back / "one" / "single.txt").read_text() == "top"


def test_transfer_errors_name_the_transfer(comm: SSHCommunicator, tmp_path: Path) -> None:
    with pytest.raises(ImagebuildError, match="does not exist"):
        comm.upload(tmp_path / "nope", "/tmp/x")
    with pytest.raises(BuildError, match=r"could not download /no/such/file .*No such file"):
        comm.download("/no/such/file", tmp_path / "x")


def test_not_connected_is_a_clear_error(sshd: Server) -> None:
    communicator = SSHCommunicator(
        "127.0.0.1", sshd.port, sshd.user, private_key_file=sshd.client_key.private_key_file
    )
    with pytest.raises(BuildError, match="not connected"):
        communicator.run("true")


def test_wait_ready_timeout_includes_last_error_and_console() -> None:
    with temporary_key_pair() as key:
        communicator = SSHCommunicator(
            "127.0.0.1",
            free_port(),
            "nobody",
            private_key_file=key.private_key_file,
            poll_interval=0.2,
        )
        started = time.monotonic()
        with pytest.raises(BuildError) as caught:
            communicator.wait_ready(2, diagnostics=lambda: "[  3.1] guest: still booting")
    assert 1.9 < time.monotonic() - started < 8
    message = str(caught.value)
    assert message.startswith("Timed out after 2s waiting for SSH on 127.0.0.1:")
    assert "Connection refused" in message
    assert message.endswith("Last lines of the guest console:\n[  3.1] guest: still booting")


def test_wait_ready_tolerates_banner_errors_until_timeout() -> None:
    """A port that accepts and hangs up, as QEMU's port forward does before sshd is up."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with temporary_key_pair() as key:
            communicator = SSHCommunicator(
                "127.0.0.1",
                listener.getsockname()[1],
                "nobody",
                private_key_file=key.private_key_file,
                poll_interval=0.2,
            )
            with pytest.raises(BuildError) as caught:
                communicator.wait_ready(2)
    finally:
        listener.close()
    assert len(accepted) >= 3
    assert "last error:" in str(caught.value)


def test_wait_ready_succeeds_when_sshd_comes_up_late(sshd: Server) -> None:
    timer = threading.Timer(1.5, sshd.start)
    timer.start()
    communicator = SSHCommunicator(
        "127.0.0.1",
        sshd.port,
        sshd.user,
        private_key_file=sshd.client_key.private_key_file,
        poll_interval=0.2,
    )
    try:
        communicator.wait_ready(20)
        out: list[str] = []
        assert communicator.run("echo ready", on_output=out.append) == 0
        assert out == ["ready"]
    finally:
        timer.join()
        communicator.close()


def test_wrong_credentials_time_out_saying_authentication_failed(sshd: Server) -> None:
    sshd.start()
    communicator = SSHCommunicator(
        "127.0.0.1", sshd.port, sshd.user, password="wrong", poll_interval=0.2
    )
    with pytest.raises(BuildError, match="authentication failed"):
        communicator.wait_ready(2)


def test_abort_stops_waiting_at_once() -> None:
    with temporary_key_pair() as key:
        communicator = SSHCommunicator(
            "127.0.0.1", free_port(), "nobody", private_key_file=key.private_key_file
        )
        calls = []

        def abort() -> str | None:
            calls.append(1)
            return "QEMU (pid 42) was killed by signal 9 (SIGKILL)" if len(calls) > 1 else None

        started = time.monotonic()
        with pytest.raises(BuildError) as caught:
            communicator.wait_ready(60, diagnostics=lambda: "last console line", abort=abort)
    assert time.monotonic() - started < 10
    assert str(caught.value) == (
        f"Gave up waiting for SSH on 127.0.0.1:{communicator.port} as 'nobody': QEMU (pid 42) "
        "was killed by signal 9 (SIGKILL). Last lines of the guest console:\nlast console line"
    )


def test_missing_credentials_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ImagebuildError, match="neither a password nor a key"):
        SSHCommunicator("127.0.0.1", 22, "u")
    with pytest.raises(ImagebuildError, match="does not exist"):
        SSHCommunicator("127.0.0.1", 22, "u", private_key_file=tmp_path / "none")


def test_generated_key_pair(tmp_path: Path) -> None:
    pair = generate_key_pair(tmp_path, comment="me@test")
    assert stat.S_IMODE(pair.private_key_file.stat().st_mode) == 0o600
    assert pair.public_key.startswith("ssh-ed25519 AAAA")
    assert pair.public_key.endswith(" me@test")
    assert (tmp_path / "id_ed25519.pub").read_text() == pair.public_key + "\n"
    loaded = paramiko.Ed25519Key.from_private_key_file(str(pair.private_key_file))
    assert pair.public_key.split()[1] == loaded.get_base64()
    with temporary_key_pair() as temporary:
        directory = temporary.private_key_file.parent
        assert temporary.private_key_file.exists()
    assert not directory.exists()
    assert (
        shutil.which("ssh-keygen") is None
        or process.run(
            ["ssh-keygen", "-y", "-f", pair.private_key_file], timeout=10
        ).stdout.split()[1]
        == pair.public_key.split()[1]
    )


def test_secrets_in_commands_stay_out_of_logs_and_errors(
    sshd: Server, caplog: pytest.LogCaptureFixture
) -> None:
    sshd.start()
    comm = SSHCommunicator(
        "127.0.0.1",
        sshd.port,
        sshd.user,
        private_key_file=sshd.client_key.private_key_file,
        secrets={"hunter2-secret"},
    )
    comm.wait_ready(timeout=20)
    try:
        with caplog.at_level("DEBUG", logger="pytest_imagebuild"):
            assert comm.run("echo hunter2-secret >/dev/null") == 0
            with pytest.raises(BuildError) as caught:
                comm.run("sleep 5 # hunter2-secret", timeout=0.5)
    finally:
        comm.close()
    assert "hunter2-secret" not in caplog.text + str(caught.value)
    assert "<sensitive>" in str(caught.value)
