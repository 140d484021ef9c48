"""WinRM communicator (pywinrm): commands with streamed output, file transfer, readiness.

PowerShell's progress and error records arrive as CLIXML on stderr; they are turned
back into readable lines here so provisioner output looks like a console's. pywinrm talks
through requests, which keeps the traffic recordable; waits go through the build clock.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

from ..clock import REAL_CLOCK, Clock
from ..errors import BuildError
from .base import AbortCheck, Communicator, Diagnostics, wait_until_ready

log = logging.getLogger(__name__)

_CLIXML_HEADER = "#< CLIXML"
_ESCAPES = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ECHO_CHUNK = 6000  # base64 characters per `echo`: cmd.exe lines must stay under 8191
_MAX_ENCODED = 7000  # longest -EncodedCommand line before a script goes up as a file


def powershell_command(script: str, execution_policy: str = "Bypass") -> str:
    """A cmd.exe line running script through PowerShell without quoting problems."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return (
        f"powershell -NoProfile -NonInteractive -ExecutionPolicy {execution_policy} "
        f"-EncodedCommand {encoded}"
    )


def clixml_to_text(text: str) -> str:
    """Readable text from PowerShell's CLIXML error stream; progress records are dropped."""
    if _CLIXML_HEADER not in text:
        return text
    lines: list[str] = []
    head, *chunks = text.split(_CLIXML_HEADER)
    if head.strip():
        lines.append(head)
    for chunk in chunks:
        body = chunk.strip()
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            lines.append(body)
            continue
        for node in root.iter():
            if node.tag.endswith("}S") and node.get("S") == "Error" and node.text:
                lines.append(_ESCAPES.sub(lambda m: chr(int(m.group(1), 16)), node.text))
    return "".join(lines).replace("\r\n", "\n").rstrip("\n")


class WinRMCommunicator(Communicator):
    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        use_ssl: bool = True,
        insecure: bool = False,
        transport: str = "ntlm",
        operation_timeout: int = 20,
        clock: Clock = REAL_CLOCK,
        poll_interval: float = 5.0,
    ):
        scheme = "https" if use_ssl else "http"
        self.endpoint = f"{scheme}://{host}:{port}/wsman"
        self.username = username
        self.password = password
        self.transport = transport
        self.insecure = insecure
        self.operation_timeout = operation_timeout
        self.clock = clock
        self.poll_interval = poll_interval
        self._protocol = None

    def _connect(self):
        from winrm.protocol import Protocol

        if self._protocol is None:
            self._protocol = Protocol(
                self.endpoint,
                transport=self.transport,
                username=self.username,
                password=self.password,
                operation_timeout_sec=self.operation_timeout,
                read_timeout_sec=self.operation_timeout + 10,
                server_cert_validation="ignore" if self.insecure else "validate",
            )
        return self._protocol

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> int:
        """Run a cmd.exe line; stdout streams line by line, stderr (CLIXML decoded) follows."""
        from winrm.exceptions import WinRMOperationTimeoutError

        protocol = self._connect()
        deadline = self.clock.monotonic() + timeout if timeout else None
        shell = protocol.open_shell()
        try:
            command_id = protocol.run_command(shell, command)
            stderr_parts: list[bytes] = []
            done, code, pending = False, 0, ""
            while not done:
                if deadline and self.clock.monotonic() > deadline:
                    raise BuildError(f"command timed out after {timeout:g}s over WinRM")
                try:
                    out, err, code, done = protocol.get_command_output_raw(shell, command_id)
                except WinRMOperationTimeoutError:
                    continue  # no output within the operation timeout: poll again
                stderr_parts.append(err)
                pending += out.decode("utf-8", "replace")
                *lines, pending = pending.replace("\r\n", "\n").split("\n")
                for line in lines:
                    if on_output:
                        on_output(line)
            if pending and on_output:
                on_output(pending)
            errors = clixml_to_text(b"".join(stderr_parts).decode("utf-8", "replace"))
            for line in errors.splitlines():
                if on_output and line.strip():
                    on_output(line)
            protocol.cleanup_command(shell, command_id)
            return code
        finally:
            try:
                protocol.close_shell(shell)
            except Exception as error:  # the shell dies with a rebooting machine
                log.debug("closing the WinRM shell failed: %s", error)

    def run_powershell(self, script: str, execution_policy: str = "Bypass", **kwargs) -> int:
        """Run a PowerShell script: encoded on the command line, or uploaded when long."""
        command = powershell_command(script, execution_policy)
        if len(command) <= _MAX_ENCODED:
            return self.run(command, **kwargs)
        import tempfile

        remote = "C:\\Windows\\Temp\\imagebuild-script.ps1"
        with tempfile.TemporaryDirectory(prefix="imagebuild-ps-") as workdir:
            local = Path(workdir) / "script.ps1"
            local.write_text(script, encoding="utf-8-sig")
            self.upload(local, remote)
        return self.run(
            f"powershell -NoProfile -NonInteractive -ExecutionPolicy {execution_policy} "
            f"-File {remote}",
            **kwargs,
        )

    def upload(self, local: str | Path, remote: str) -> None:
        """Copy a file (or a tree) the way winrmcp does: base64 lines appended with cmd's
        echo, then decoded in place by certutil, which every Windows has."""
        local = Path(local)
        if local.is_dir():
            for path in sorted(local.rglob("*")):
                if path.is_file():
                    target = (
                        remote.rstrip("\\/")
                        + "\\"
                        + str(path.relative_to(local)).replace("/", "\\")
                    )
                    self.upload(path, target)
            return
        encoded = base64.b64encode(local.read_bytes()).decode("ascii")
        folder = remote.rsplit("\\", 1)[0] if "\\" in remote else ""
        if folder and not folder.endswith(":"):
            self.run(f'mkdir "{folder}" 2>nul')  # fails harmlessly when it exists
        if not encoded:
            quoted = remote.replace("'", "''")
            script = f"New-Item -ItemType File -Force -Path '{quoted}' | Out-Null"
            self._check(self.run(powershell_command(script)), f"creating {remote}")
            return
        staging = f"{remote}.b64"
        for start in range(0, len(encoded), _ECHO_CHUNK):
            line = encoded[start : start + _ECHO_CHUNK]
            redirect = ">" if start == 0 else ">>"
            self._check(self.run(f'echo {line} {redirect} "{staging}"'), f"uploading to {remote}")
        lines: list[str] = []
        status = self.run(
            f'certutil -f -decode "{staging}" "{remote}" && del "{staging}"',
            on_output=lines.append,
        )
        if status != 0:
            raise BuildError(f"WinRM: writing {remote} failed: {' '.join(lines)[-300:]}")

    def download(self, remote: str, local: str | Path) -> None:
        staging = f"{remote}.download.b64"
        lines: list[str] = []
        status = self.run(
            f'certutil -f -encode "{remote}" "{staging}" > nul && type "{staging}" '
            f'&& del "{staging}"',
            on_output=lines.append,
        )
        self._check(status, f"downloading {remote}")
        body = "".join(line.strip() for line in lines if line.strip() and "-----" not in line)
        Path(local).parent.mkdir(parents=True, exist_ok=True)
        Path(local).write_bytes(base64.b64decode(body))

    def wait_ready(
        self,
        timeout: float,
        diagnostics: Diagnostics | None = None,
        abort: AbortCheck | None = None,
    ) -> None:
        """Retry a trivial command until it works; refused, TLS or auth errors mean not yet."""

        def attempt(left: float) -> str | None:
            try:
                if self.run("echo ready", timeout=left) == 0:
                    return None
                return "the test command failed"
            except Exception as error:  # connection refused, TLS, auth while the VM boots
                self._protocol = None
                return _describe(error)

        wait_until_ready(
            f"WinRM on {self.endpoint}",
            timeout,
            attempt,
            clock=self.clock,
            poll_interval=self.poll_interval,
            diagnostics=diagnostics,
            abort=abort,
        )

    def close(self) -> None:
        self._protocol = None

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status != 0:
            raise BuildError(f"WinRM: {what} failed with exit code {status}")


def _describe(error: Exception) -> str:
    """A short reason without URLs' query strings or nested tracebacks."""
    text = " ".join(str(error).split())
    if len(text) > 200:
        text = text[:200] + "..."
    return f"{type(error).__name__}: {text}"
