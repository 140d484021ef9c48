"""SSH recorded beside the HTTP cassettes: commands, exit statuses, output and uploads are
kept in order in <name>.ssh.yaml, scrubbed, and replayed without a socket."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_imagebuild.communicators.ssh import SSHCommunicator
from pytest_imagebuild.recording.blocking import network_blocked
from pytest_imagebuild.recording.communicator import RecordingCommunicator, recorded
from pytest_imagebuild.recording.placeholders import SecretBook
from pytest_imagebuild.recording.scrub import PublicAddresses, Scrubber
from pytest_imagebuild.recording.ssh_tape import SshNotInCassette, open_tape, tape_path
from pytest_imagebuild.recording.testinfra_backend import RecordedSSHBackend

SECRET = "s3cr3t-client-value"


class FakeGuest(SSHCommunicator):
    """An SSH communicator whose guest is a dictionary: no socket is ever opened."""

    def __init__(self, key: Path) -> None:
        super().__init__("127.0.0.9", 22, "packer", private_key_file=key)
        self.calls: list[str] = []
        self.files: dict[str, bytes] = {}

    def wait_ready(self, timeout, diagnostics=None, abort=None) -> None:
        self.calls.append("connect")

    def run(self, command, *, timeout=None, on_output=None) -> int:
        self.calls.append(command)
        for line in (f"ran {command}", "second line"):
            (on_output or (lambda line: None))(line)
        return 3 if "fail" in command else 0

    def capture(self, command: str) -> tuple[int, bytes, bytes]:
        self.calls.append(command)
        return 1, b"out of " + command.encode(), b"complaint"

    def upload(self, local: Path, remote: str) -> None:
        self.calls.append(f"upload {remote}")
        self.files[remote] = Path(local).read_bytes()

    def close(self) -> None:
        pass


class Exploding(FakeGuest):
    def wait_ready(self, *args, **kwargs):
        raise AssertionError("replay touched the guest")

    run = capture = upload = wait_ready  # type: ignore[assignment]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "id"
    path.write_text("not a real key")
    return path


def tape(cassette: Path, replaying: bool):
    book = SecretBook(named={"client_secret": SECRET})
    mode = "none" if replaying else "rewrite"
    return open_tape(cassette, replaying, Scrubber(book, PublicAddresses()), book, mode)


def session(comm: RecordingCommunicator, script: Path) -> list[object]:
    seen: list[object] = []
    comm.wait_ready(10)
    seen.append(comm.run(f"echo {SECRET}", on_output=seen.append))
    seen.append(comm.run("please fail", on_output=seen.append))
    comm.upload(script, "/tmp/script_0.sh")
    seen.append(comm.execute("systemctl is-active nginx"))
    return seen


def test_a_recorded_session_replays_the_same_outcomes_without_the_guest(tmp_path, key):
    cassette = tmp_path / "cassettes" / "build.yaml"
    script = tmp_path / "script.sh"
    script.write_text("echo hi\n")
    live = FakeGuest(key)
    with tape(cassette, replaying=False):
        recorded_seen = session(RecordingCommunicator(live), script)
    assert live.calls[0] == "connect" and live.files["/tmp/script_0.sh"] == b"echo hi\n"
    assert tape_path(cassette).name == "build.ssh.yaml"

    with tape(cassette, replaying=True), network_blocked("replaying"):
        replayed_seen = session(RecordingCommunicator(Exploding(key)), script)
    secretless = [str(item).replace(SECRET, "scrubbed-client_secret") for item in recorded_seen]
    assert [str(item) for item in replayed_seen] == secretless
    assert 3 in replayed_seen  # the failing command's exit status came back


def test_the_tape_keeps_no_secret_and_no_file_content(tmp_path, key):
    cassette = tmp_path / "build.yaml"
    script = tmp_path / "script.sh"
    script.write_text("the script body\n")
    with tape(cassette, replaying=False):
        session(RecordingCommunicator(FakeGuest(key)), script)
    text = tape_path(cassette).read_text()
    assert SECRET not in text
    assert "the script body" not in text
    entries = yaml.safe_load(text)["interactions"]
    assert [next(iter(entry)) for entry in entries] == ["connect", "run", "run", "upload", "exec"]
    assert entries[2]["exit_status"] == 3


def test_a_changed_command_is_not_in_the_cassette(tmp_path, key):
    cassette = tmp_path / "build.yaml"
    with tape(cassette, replaying=False):
        RecordingCommunicator(FakeGuest(key)).run("apt-get install -y nginx")
    with tape(cassette, replaying=True), pytest.raises(SshNotInCassette) as caught:
        RecordingCommunicator(Exploding(key)).run("apt-get install -y apache2")
    message = str(caught.value)
    assert "apt-get install -y apache2" in message
    assert "apt-get install -y nginx" in message  # what was recorded next
    assert str(tape_path(cassette)) in message and "--image-record-mode=rewrite" in message


def test_an_upload_with_other_content_is_not_in_the_cassette(tmp_path, key):
    cassette = tmp_path / "build.yaml"
    script = tmp_path / "script.sh"
    script.write_text("one\n")
    with tape(cassette, replaying=False):
        RecordingCommunicator(FakeGuest(key)).upload(script, "/tmp/s.sh")
    script.write_text("two\n")
    with tape(cassette, replaying=True), pytest.raises(SshNotInCassette, match="upload"):
        RecordingCommunicator(Exploding(key)).upload(script, "/tmp/s.sh")


def test_a_replay_past_the_end_of_the_recording_fails(tmp_path, key):
    cassette = tmp_path / "build.yaml"
    with tape(cassette, replaying=False):
        RecordingCommunicator(FakeGuest(key)).run("true")
    with tape(cassette, replaying=True):
        comm = RecordingCommunicator(Exploding(key))
        comm.run("true")
        with pytest.raises(SshNotInCassette, match="no further SSH action"):
            comm.run("true")


def test_only_ssh_inside_a_cassette_is_wrapped(tmp_path, key):
    plain = FakeGuest(key)
    assert recorded(plain) is plain  # recording off: the communicator as it is
    with tape(tmp_path / "build.yaml", replaying=False):
        assert isinstance(recorded(plain), RecordingCommunicator)


def test_testinfra_commands_replay_through_the_backend(tmp_path, key):
    import testinfra.host

    cassette = tmp_path / "test.yaml"

    def check(comm: RecordingCommunicator) -> tuple[int, str, str]:
        backend = RecordedSSHBackend(comm, "127.0.0.9")
        backend._encoding = "utf-8"
        host = testinfra.host.Host(backend)
        result = host.run("id -nu")
        return result.rc, result.stdout, result.stderr

    with tape(cassette, replaying=False):
        live = check(RecordingCommunicator(FakeGuest(key)))
    with tape(cassette, replaying=True), network_blocked("replaying"):
        assert check(RecordingCommunicator(Exploding(key))) == live == (
            1,
            "out of id -nu",
            "complaint",
        )
