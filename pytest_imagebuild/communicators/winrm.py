"""WinRM communicator (pywinrm): commands with streamed output, file transfer, readiness.

PowerShell's progress and error records arrive as CLIXML on stderr; they are turned
back into readable lines here so provisioner output looks like a console's.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

from ..errors import BuildError
from .base import Communicator

_CLIXML_HEADER = "#< CLIXML"
_ESCAPES = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CHUNK = 2000  # bytes per upload command: cmd.exe lines stay far below their 8191 limit


def powershell_command(script: str) -> str:
    """A cmd.exe line running script through PowerShell without quoting problems."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return (
        f"powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand {encoded}"
    )


def clixml_to_text(text: str) -> str:
    """Readable text from PowerShell's CLIXML error stream; progress records are dropped."""
    if not text.startswith(_CLIXML_HEADER):
        return text
    lines: list[str] = []
    for chunk in text.split(_CLIXML_HEADER)[1:]:
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
        sleep: Callable[[float], None] = time.sleep,
    ):
        scheme = "https" if use_ssl else "http"
        self.endpoint = f"{scheme}://{host}:{port}/wsman"
        self.username = username
        self.password = password
        self.transport = transport
        self.insecure = insecure
        self.operation_timeout = operation_timeout
        self.sleep = sleep
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
        from winrm.exceptions import WinRMOperationTimeoutError

        protocol = self._connect()
        deadline = time.monotonic() + timeout if timeout else None
        shell = protocol.open_shell()
        try:
            command_id = protocol.run_command(shell, command)
            stderr_parts: list[bytes] = []
            done, code, pending = False, 0, ""
            while not done:
                if deadline and time.monotonic() > deadline:
                    raise BuildError(f"command timed out after {timeout:g}s over WinRM")
                try:
                    out, err, code, done = protocol.get_command_output_raw(shell, command_id)
                except WinRMOperationTimeoutError:
                    continue
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
            protocol.close_shell(shell)

    def run_powershell(self, script: str, **kwargs) -> int:
        return self.run(powershell_command(script), **kwargs)

    def upload(self, local: str | Path, remote: str) -> None:
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
        data = local.read_bytes()
        quoted = remote.replace("'", "''")
        script = (
            f"$p = '{quoted}'; New-Item -ItemType Directory -Force -Path (Split-Path $p) "
            "| Out-Null; [IO.File]::WriteAllBytes($p, [byte[]]@())"
        )
        self._check(self.run_powershell(script), f"creating {remote}")
        for start in range(0, len(data), _CHUNK):
            chunk = base64.b64encode(data[start : start + _CHUNK]).decode("ascii")
            script = (
                f"$f = [IO.File]::Open('{quoted}', 'Append'); $b = [Convert]::FromBase64String("
                f"'{chunk}'); $f.Write($b, 0, $b.Length); $f.Close()"
            )
            self._check(self.run_powershell(script), f"uploading to {remote}")

    def download(self, remote: str, local: str | Path) -> None:
        quoted = remote.replace("'", "''")
        lines: list[str] = []
        status = self.run_powershell(
            f"[Convert]::ToBase64String([IO.File]::ReadAllBytes('{quoted}'))",
            on_output=lines.append,
        )
        self._check(status, f"downloading {remote}")
        Path(local).parent.mkdir(parents=True, exist_ok=True)
        Path(local).write_bytes(base64.b64decode("".join(lines)))

    def wait_ready(self, timeout: float, diagnostics: Callable[[], str] | None = None) -> None:
        deadline = time.monotonic() + timeout
        last_error = ""
        while True:
            try:
                if self.run("echo ready") == 0:
                    return
            except BuildError:
                raise
            except Exception as error:  # connection refused, TLS, auth while the VM boots
                last_error = f"{type(error).__name__}: {error}"
                self._protocol = None
            if time.monotonic() >= deadline:
                extra = f"\n{diagnostics()}" if diagnostics else ""
                raise BuildError(
                    f"Timeout waiting for WinRM on {self.endpoint} after {timeout:g}s; "
                    f"last error: {last_error or 'none'}{extra}"
                )
            self.sleep(5)

    def close(self) -> None:
        self._protocol = None

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status != 0:
            raise BuildError(f"WinRM: {what} failed with exit code {status}")
