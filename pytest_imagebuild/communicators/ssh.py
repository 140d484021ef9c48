"""The SSH communicator (paramiko): commands with streamed output, SFTP file transfer.

Host keys are not checked, as with Packer: the guest is new, made a minute ago, reached over
loopback, and its keys are generated at first boot.
"""

from __future__ import annotations

import codecs
import logging
import posixpath
import stat
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import paramiko

from ..clock import REAL_CLOCK
from ..errors import BuildError, ImagebuildError
from ..secrets import mask
from .base import AbortCheck, Communicator, Diagnostics, wait_until_ready

log = logging.getLogger("pytest_imagebuild")

# While a guest boots: refused (sshd not up), reset or no banner (sshd starting, or qemu's
# port forward accepting before the guest answers), auth failure (cloud-init has not yet
# installed the key).
RETRYABLE = (OSError, EOFError, paramiko.SSHException)

# Paramiko logs every failed attempt with a traceback from its own thread, even after connect()
# has raised; while a guest boots those are expected, so attempts log to a silenced channel.
PROBE_LOG = "pytest_imagebuild.ssh.probe"
logging.getLogger(PROBE_LOG).addHandler(logging.NullHandler())
logging.getLogger(PROBE_LOG).propagate = False


class SSHCommunicator(Communicator):
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        *,
        password: str | None = None,
        private_key_file: Path | None = None,
        connect_timeout: float = 10.0,
        poll_interval: float = 1.0,
        secrets: Iterable[str] = (),
    ) -> None:
        if password is None and private_key_file is None:
            raise ImagebuildError(f"SSH to {host}:{port}: neither a password nor a key given.")
        if private_key_file is not None and not Path(private_key_file).is_file():
            raise ImagebuildError(f"SSH private key file {private_key_file} does not exist.")
        self.host, self.port, self.username = host, port, username
        self.password = password
        self.private_key_file = private_key_file
        self.connect_timeout = connect_timeout
        self.poll_interval = poll_interval
        # Commands may carry secrets (`echo <password> | sudo -S ...`); logs must not.
        self.secrets = {*secrets, *([password] if password else [])}
        self._client: paramiko.SSHClient | None = None

    @property
    def target(self) -> str:
        return f"SSH on {self.host}:{self.port} as {self.username!r}"

    def wait_ready(
        self,
        timeout: float,
        diagnostics: Diagnostics | None = None,
        abort: AbortCheck | None = None,
    ) -> None:
        """Retry connecting until ``timeout``; ``abort`` ends the wait early (a dead VM)."""

        def attempt(left: float) -> str | None:
            try:
                self._client = self._connect(min(self.connect_timeout, left))
            except RETRYABLE as error:
                reason = _describe(error)
                log.debug("%s not ready: %s", self.target, reason)
                return reason
            return None

        waited, attempts = wait_until_ready(
            self.target,
            timeout,
            attempt,
            clock=REAL_CLOCK,
            poll_interval=self.poll_interval,
            diagnostics=diagnostics,
            abort=abort,
        )
        log.info("%s ready after %.1fs (%d attempts)", self.target, waited, attempts)

    def _connect(self, timeout: float) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.set_log_channel(PROBE_LOG)
        try:
            client.connect(
                self.host,
                self.port,
                username=self.username,
                password=self.password,
                key_filename=str(self.private_key_file) if self.private_key_file else None,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                allow_agent=False,
                look_for_keys=False,
            )
        except BaseException:
            client.close()
            raise
        transport = client.get_transport()
        if transport is not None:
            transport.set_log_channel("pytest_imagebuild.ssh")
            transport.set_keepalive(15)
        return client

    def _transport(self) -> paramiko.Transport:
        transport = self._client.get_transport() if self._client else None
        if transport is None or not transport.is_active():
            raise BuildError(
                f"{self.target}: not connected (call wait_ready first, or the connection was lost)."
            )
        return transport

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> int:
        """Run ``command``; stderr joins the stdout stream, as provisioner logs show both."""
        log.debug("%s: running %s", self.target, mask(command, self.secrets))
        channel = self._transport().open_session(timeout=self.connect_timeout)
        try:
            channel.set_combine_stderr(True)
            channel.settimeout(0.5)
            channel.exec_command(command)
            self._stream(channel, command, timeout, on_output or (lambda line: None))
            status = channel.recv_exit_status()
        finally:
            channel.close()
        if status == -1:
            raise BuildError(
                f"{self.target}: the connection closed before "
                f"`{mask(command, self.secrets)}` "
                "reported an exit status (did the guest reboot?)."
            )
        return status

    def capture(self, command: str) -> tuple[int, bytes, bytes]:
        """Run ``command``; its exit status, stdout and stderr apart (what testinfra reports)."""
        log.debug("%s: running %s", self.target, mask(command, self.secrets))
        channel = self._transport().open_session(timeout=self.connect_timeout)
        try:
            channel.exec_command(command)
            stdout = b"".join(channel.makefile("rb"))
            stderr = b"".join(channel.makefile_stderr("rb"))
            status = channel.recv_exit_status()
        finally:
            channel.close()
        return status, stdout, stderr

    def _stream(
        self,
        channel: paramiko.Channel,
        command: str,
        timeout: float | None,
        emit: Callable[[str], None],
    ) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        while True:
            if deadline is not None and time.monotonic() > deadline:
                raise BuildError(
                    f"{self.target}: `{mask(command, self.secrets)}` still running "
                    f"after {timeout:g}s; gave up."
                )
            try:
                data = channel.recv(32768)
            except TimeoutError:  # socket.timeout is an alias of it since 3.10
                continue
            pending += decoder.decode(data, final=not data)
            *lines, pending = pending.split("\n")
            for line in lines:
                emit(line.rstrip("\r"))
            if not data:
                break
        if pending:
            emit(pending.rstrip("\r"))

    def upload(self, local: Path, remote: str) -> None:
        local = Path(local)
        if not local.exists():
            raise ImagebuildError(f"Cannot upload {local}: it does not exist.")
        with self._sftp(f"upload {local} to {remote}") as sftp:
            if local.is_dir():
                _put_tree(sftp, local, remote)
            else:
                _put_file(sftp, local, remote)

    def download(self, remote: str, local: Path) -> None:
        with self._sftp(f"download {remote} to {local}") as sftp:
            _get_tree(sftp, remote, Path(local))

    def _sftp(self, what: str) -> _SFTPSession:
        return _SFTPSession(self, what)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class _SFTPSession:
    """Opens SFTP and turns transfer failures into a BuildError that names the transfer."""

    def __init__(self, comm: SSHCommunicator, what: str) -> None:
        self.comm, self.what = comm, what
        self.sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> paramiko.SFTPClient:
        transport = self.comm._transport()
        try:
            self.sftp = paramiko.SFTPClient.from_transport(transport)
        except paramiko.SSHException as error:
            raise BuildError(f"{self.comm.target}: cannot start SFTP ({error}).") from None
        assert self.sftp is not None
        return self.sftp

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        if self.sftp is not None:
            self.sftp.close()
        if isinstance(error, OSError):
            raise BuildError(
                f"{self.comm.target}: could not {self.what}: {_describe(error)}."
            ) from None


def _put_file(sftp: paramiko.SFTPClient, local: Path, remote: str) -> None:
    sftp.put(str(local), remote)
    sftp.chmod(remote, stat.S_IMODE(local.stat().st_mode))


def _put_tree(sftp: paramiko.SFTPClient, local: Path, remote: str) -> None:
    _mkdir(sftp, remote)
    for entry in sorted(local.iterdir()):
        target = posixpath.join(remote, entry.name)
        if entry.is_dir():
            _put_tree(sftp, entry, target)
        else:
            _put_file(sftp, entry, target)


def _mkdir(sftp: paramiko.SFTPClient, remote: str) -> None:
    try:
        if stat.S_ISDIR(sftp.stat(remote).st_mode or 0):
            return
    except FileNotFoundError:
        pass
    sftp.mkdir(remote)


def _get_tree(sftp: paramiko.SFTPClient, remote: str, local: Path) -> None:
    attributes = sftp.stat(remote)
    if not stat.S_ISDIR(attributes.st_mode or 0):
        local.parent.mkdir(parents=True, exist_ok=True)
        sftp.get(remote, str(local))
        local.chmod(stat.S_IMODE(attributes.st_mode or 0o644))
        return
    local.mkdir(parents=True, exist_ok=True)
    for entry in sftp.listdir_attr(remote):
        _get_tree(sftp, posixpath.join(remote, entry.filename), local / entry.filename)


def _describe(error: BaseException) -> str:
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        causes = {_describe(cause) for cause in error.errors.values()}
        return "; ".join(sorted(causes)) or str(error)
    if isinstance(error, paramiko.AuthenticationException):
        return f"authentication failed ({error})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror if not error.filename else f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__
