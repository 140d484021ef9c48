"""Native programs of the fake Windows host, and cmd.exe's own command line.

WinRS runs a command through `cmd /c` (WINRS_SKIP_CMD_SHELL=FALSE), so everything arriving over
WinRM starts here: `powershell -EncodedCommand ...` (pywinrm's run_ps), testinfra's command lines,
`winrm create ...`, `netsh`, `sysprep.exe`, `shutdown`. Unknown programs get cmd's real text
"'x' is not recognized as an internal or external command, ..." and exit code 1, as captured.
"""

from __future__ import annotations

import base64
import binascii
import ntpath
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from standin.psformat import clixml
from standin.windows import FirewallRule, WindowsMachine

NOT_RECOGNIZED = (
    "'{name}' is not recognized as an internal or external command,\r\n"
    "operable program or batch file.\r\n"
)


@dataclass
class Context:
    machine: WindowsMachine
    user: str
    cwd: str
    ps: bool = False  # called from PowerShell rather than cmd
    channel: str = "winrm"  # "winrm" (stderr redirected: CLIXML) or "runcommand"
    cancel: threading.Event = field(default_factory=threading.Event)
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    on_out: Callable[[str], None] | None = None
    on_err: Callable[[str], None] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def write(self, text: str) -> None:
        if self.on_out is not None:
            self.on_out(text)
        else:
            self.out.append(text)

    def error(self, text: str) -> None:
        if self.on_err is not None:
            self.on_err(text)
        else:
            self.err.append(text)


Program = Callable[[Context, list[str]], int]


def _collecting(run: Program) -> Callable[[Context, list[str]], tuple[str, str, int]]:
    def call(ctx: Context, argv: list[str]) -> tuple[str, str, int]:
        sub = Context(ctx.machine, ctx.user, ctx.cwd, ctx.ps, ctx.channel, ctx.cancel)
        rc = run(sub, argv)
        return "".join(sub.out), "".join(sub.err), rc

    return call


def find(name: str) -> Callable[[Context, list[str]], tuple[str, str, int]] | None:
    """A native program by name or path, wrapped to return (stdout, stderr, exit code)."""
    base = ntpath.basename(name.replace("/", "\\")).lower()
    prog = (
        PROGRAMS.get(base)
        or PROGRAMS.get(base.removesuffix(".exe"))
        or PROGRAMS.get(base.removesuffix(".cmd"))
    )
    return None if prog is None else _collecting(prog)


def split_args(line: str) -> list[str]:
    """Windows command-line splitting (CommandLineToArgvW, without the backslash subtleties)."""
    args: list[str] = []
    cur: list[str] = []
    quoted = False
    have = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == '"':
            cur.append('"')
            i += 2
            have = True
            continue
        if c == '"':
            quoted = not quoted
            have = True
        elif c in " \t" and not quoted:
            if have:
                args.append("".join(cur))
                cur, have = [], False
        else:
            cur.append(c)
            have = True
        i += 1
    if have:
        args.append("".join(cur))
    return args


# -- cmd.exe ------------------------------------------------------------------------------------
def run_cmd_line(ctx: Context, line: str) -> int:
    """Run one cmd.exe command line with `&&`, `||`, `&` and simple redirections."""
    rc = 0
    for op, part in _split_operators(line):
        if op == "&&" and rc != 0:
            continue
        if op == "||" and rc == 0:
            continue
        rc = _run_redirected(ctx, part.strip())
    return rc


def _split_operators(line: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    op, cur, quoted, i = "", [], False, 0
    while i < len(line):
        c = line[i]
        if c == '"':
            quoted = not quoted
        if not quoted and line.startswith(("&&", "||"), i):
            parts.append((op, "".join(cur)))
            op, cur = line[i : i + 2], []
            i += 2
            continue
        if (
            not quoted
            and c == "&"
            and not (i > 0 and line[i - 1] in "<>")
            and line[i + 1 : i + 2] != "1"
            and not (i > 0 and line[i - 1] == "2")
        ):
            parts.append((op, "".join(cur)))
            op, cur = "&", []
            i += 1
            continue
        cur.append(c)
        i += 1
    parts.append((op, "".join(cur)))
    return [(o, p) for o, p in parts if p.strip()]


def _run_redirected(ctx: Context, part: str) -> int:
    m = re.search(r'\s*(2>&1|2>\s*nul|1?>>?\s*("[^"]+"|\S+))\s*$', part, re.IGNORECASE)
    target, append, merge, quiet_err = None, False, False, False
    while m:
        token = m.group(1)
        part = part[: m.start()]
        if token == "2>&1":
            merge = True
        elif token.lower().replace(" ", "") == "2>nul":
            quiet_err = True
        else:
            append = ">>" in token
            target = token.lstrip("1").lstrip(">").strip().strip('"')
        m = re.search(r'\s*(2>&1|2>\s*nul|1?>>?\s*("[^"]+"|\S+))\s*$', part, re.IGNORECASE)
    if target is None and not merge and not quiet_err:
        return _run_simple(ctx, part)
    sub = Context(ctx.machine, ctx.user, ctx.cwd, ctx.ps, ctx.channel, ctx.cancel)
    rc = _run_simple(sub, part)
    out, err = "".join(sub.out), "".join(sub.err)
    if merge:
        out, err = out + err, ""
    if not quiet_err and err:
        ctx.error(err)
    if target is None or target.lower() == "nul":
        return rc
    ctx.machine.write_file(_full(ctx, target), out, append=append)
    return rc


def _full(ctx: Context, path: str) -> str:
    p = path.replace("/", "\\")
    return ntpath.normpath(p if len(p) > 1 and p[1] == ":" else ntpath.join(ctx.cwd, p))


def _expand_env(ctx: Context, text: str) -> str:
    env = {k.lower(): v for k, v in ctx.machine.env().items()}
    env.update({k.lower(): v for k, v in ctx.env.items()})
    return re.sub(r"%([^%\s]+)%", lambda m: env.get(m.group(1).lower(), m.group(0)), text)


def _run_simple(ctx: Context, line: str) -> int:
    line = _expand_env(ctx, line.strip()).lstrip("@")
    if not line:
        return 0
    first = line.split(None, 1)[0]
    rest = line[len(first) :].lstrip(" ")
    name = first.lower().strip('"')
    if name.startswith("echo") and (name == "echo" or name[4:5] in ".:("):
        text = line[5:] if len(line) > 4 else ""
        if text.strip().lower() in ("off", "on"):
            return 0
        ctx.write(text + "\r\n")
        return 0
    builtin = BUILTINS.get(name)
    if builtin is not None:
        return builtin(ctx, rest)
    if name.endswith((".cmd", ".bat")):
        return _batch(ctx, first.strip('"'))
    prog = PROGRAMS.get(ntpath.basename(name).removesuffix(".exe").removesuffix(".cmd"))
    if prog is None:
        ctx.error(NOT_RECOGNIZED.format(name=first.strip('"')))
        return 1
    return prog(ctx, [first.strip('"'), *split_args(rest)])


def _batch(ctx: Context, path: str) -> int:
    """A .cmd/.bat file, line by line (no labels or goto); `exit /b N` ends it with N."""
    text = ctx.machine.read_file(_full(ctx, path))
    if text is None:
        ctx.error(NOT_RECOGNIZED.format(name=path))
        return 1
    rc = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(":") or line.lower().lstrip("@") in ("echo off", "echo on"):
            continue
        word = line.lstrip("@").split(None, 1)[0].lower()
        rc = run_cmd_line(ctx, line)
        if word == "exit":
            break
    return rc


def _type(ctx: Context, rest: str) -> int:
    if rest.strip().strip('"').lower() == "nul":
        return 0
    path = _full(ctx, rest.strip().strip('"'))
    text = ctx.machine.read_file(path)
    if text is None:
        ctx.error("The system cannot find the file specified.\r\n")
        return 1
    ctx.write(text)
    return 0


def _exit(ctx: Context, rest: str) -> int:
    words = [w for w in rest.split() if w.lower() != "/b"]
    return int(words[0]) if words and words[0].lstrip("-").isdigit() else 0


def _cd(ctx: Context, rest: str) -> int:
    if not rest.strip():
        ctx.write(ctx.cwd + "\r\n")
        return 0
    path = _full(ctx, rest.strip().replace("/d ", "").strip('"'))
    if not ctx.machine.is_dir(path):
        ctx.error("The system cannot find the path specified.\r\n")
        return 1
    ctx.cwd = path
    return 0


def _del(ctx: Context, rest: str) -> int:
    for word in split_args(rest):
        if not word.startswith("/") and not ctx.machine.remove(_full(ctx, word)):
            ctx.error(f"Could Not Find {_full(ctx, word)}\r\n")
    return 0


def _mkdir(ctx: Context, rest: str) -> int:
    for word in split_args(rest):
        path = _full(ctx, word)
        if ctx.machine.is_dir(path):
            ctx.error(f"A subdirectory or file {word} already exists.\r\n")
            return 1
        ctx.machine.mkdir(path)
    return 0


def _rmdir(ctx: Context, rest: str) -> int:
    words = [w for w in split_args(rest) if not w.startswith("/")]
    for word in words:
        if not ctx.machine.remove(_full(ctx, word)):
            ctx.error("The system cannot find the file specified.\r\n")
            return 2
    return 0


def _ver(ctx: Context, rest: str) -> int:
    ctx.write(f"\r\nMicrosoft Windows [Version {ctx.machine.os_version}.0]\r\n")
    return 0


def _set(ctx: Context, rest: str) -> int:
    rest = rest.strip()
    if rest.startswith('"') and rest.endswith('"'):  # set "NAME=value": quotes are not kept
        rest = rest[1:-1]
    if "=" in rest:
        key, value = rest.split("=", 1)
        ctx.env[key.strip()] = value
        return 0
    for k, v in sorted(ctx.machine.env().items()):
        ctx.write(f"{k}={v}\r\n")
    return 0


BUILTINS: dict[str, Callable[[Context, str], int]] = {
    "type": _type,
    "exit": _exit,
    "cd": _cd,
    "chdir": _cd,
    "del": _del,
    "erase": _del,
    "mkdir": _mkdir,
    "md": _mkdir,
    "rmdir": _rmdir,
    "rd": _rmdir,
    "ver": _ver,
    "set": _set,
    "rem": lambda ctx, rest: 0,
    "cls": lambda ctx, rest: 0,
}


# -- programs -----------------------------------------------------------------------------------
def _cmd(ctx: Context, argv: list[str]) -> int:
    args = argv[1:]
    while args and args[0].lower() in ("/q", "/d", "/s", "/u", "/a"):
        args = args[1:]
    if not args or args[0].lower() not in ("/c", "/k"):
        ctx.write(f"Microsoft Windows [Version {ctx.machine.os_version}.0]\r\n")
        return 0
    return run_cmd_line(ctx, " ".join(_requote(a) for a in args[1:]))


def _requote(arg: str) -> str:
    return f'"{arg}"' if " " in arg and not arg.startswith('"') else arg


def _hostname(ctx: Context, argv: list[str]) -> int:
    ctx.write(ctx.machine.computer_name + "\r\n")
    return 0


def _whoami(ctx: Context, argv: list[str]) -> int:
    ctx.write(f"{ctx.machine.computer_name.lower()}\\{ctx.user.lower()}\r\n")
    return 0


def _ipconfig(ctx: Context, argv: list[str]) -> int:
    ctx.write(
        "\r\nWindows IP Configuration\r\n\r\n\r\nEthernet adapter Ethernet:\r\n\r\n"
        "   Connection-specific DNS Suffix  . : reddog.microsoft.com\r\n"
    )
    return 0


def powershell_exe(ctx: Context, argv: list[str]) -> int:
    from standin.powershell import Cancelled, Session  # the interpreter imports this module

    script, problem = _powershell_script(ctx, argv[1:])
    if problem:
        ctx.error(problem)
        return 1 if script is None else 0
    errors: list[tuple[str, str]] = []

    def on_err(stream: str, text: str) -> None:
        errors.append((stream, text))

    sess = Session(ctx.machine, ctx.user, ctx.write, on_err, cancel=ctx.cancel, cwd=ctx.cwd)
    try:
        rc = sess.run(script or "")
    except Cancelled:
        rc = 1
    if errors:
        if ctx.channel == "winrm":
            ctx.error(clixml(errors))
        else:
            ctx.error("".join(("" if s == "Error" else s.upper() + ": ") + t for s, t in errors))
    if sess.reboot_requested:
        _later(ctx.machine, 2.0, ctx.machine.reboot)
    return rc


def _powershell_script(ctx: Context, args: list[str]) -> tuple[str | None, str]:
    valued = {
        "executionpolicy",
        "ep",
        "exec",
        "inputformat",
        "outputformat",
        "windowstyle",
        "version",
        "configurationname",
        "psconsolefile",
    }
    i = 0
    while i < len(args):
        a = args[i]
        low = a.lower().lstrip("-/")
        if not a.startswith(("-", "/")):
            return " ".join(args[i:]), ""
        if low in ("encodedcommand", "enc", "e", "ec", "en", "encoded"):
            try:
                return base64.b64decode(args[i + 1]).decode("utf-16-le"), ""
            except (IndexError, binascii.Error, UnicodeDecodeError):
                return (
                    None,
                    "Cannot process the command because the value specified with "
                    "-EncodedCommand is not properly encoded. The value must be Base64 "
                    "encoded.\r\n",
                )
        if low in ("command", "c", "com", "comm"):
            return " ".join(args[i + 1 :]), ""
        if low in ("file", "f"):
            text = ctx.machine.read_file(_full(ctx, args[i + 1]))
            if text is None:
                return None, (
                    f"The argument '{args[i + 1]}' to the -File parameter does not "
                    "exist. Provide the path to an existing '.ps1' file as an argument "
                    "to the -File parameter.\r\n"
                )
            return text.removeprefix("\ufeff"), ""  # PowerShell reads past a BOM
        i += 2 if low in valued else 1
    return (
        None,
        "Windows PowerShell\r\nCopyright (C) Microsoft Corporation. All rights reserved.\r\n",
    )


def _later(machine: WindowsMachine, guest_seconds: float, action: Callable[[], None]) -> None:
    timer = threading.Timer(machine.settings.guest_seconds(guest_seconds), action)
    timer.daemon = True
    timer.start()


def _winrm(ctx: Context, argv: list[str]) -> int:
    args = argv[1:]
    verb = args[0].lower() if args else ""
    rest = " ".join(args[1:])
    if verb in ("create", "c") and "listener" in rest.lower():
        if "transport=https" not in rest.lower():
            ctx.write(_listener_created("HTTP"))
            return 0
        fields = dict((k.lower(), v) for k, v in re.findall(r'(\w+)\s*=\s*"?([^";}]*)"?', rest))
        problem = ctx.machine.add_https_listener(
            fields.get("certificatethumbprint", ""), fields.get("hostname", "")
        )
        if problem:
            text = (
                "Cannot create a resource with the same URI and selectors as an existing resource."
                if problem == "exists"
                else "Cannot find the certificate that is requested."
            )
            number = "-2144108493 0x80338033" if problem == "exists" else "-2147012852 0x80072F0C"
            ctx.error(
                f"WSManFault\r\n    Message = {text} \r\n\r\nError number:  {number}\r\n{text} \r\n"
            )
            return 1
        ctx.write(_listener_created("HTTPS"))
        return 0
    if verb in ("delete", "d") and "listener" in rest.lower():
        transport = "HTTPS" if "transport=https" in rest.lower() else "HTTP"
        if not ctx.machine.remove_listener(transport):
            text = (
                "The service cannot find the resource identified by the resource URI and "
                "selectors."
            )
            ctx.error(
                f"WSManFault\r\n    Message = {text} \r\n\r\nError number:  -2144108544 "
                f"0x80338000\r\n{text} \r\n"
            )
            return 1
        return 0
    if verb in ("quickconfig", "qc"):
        svc = ctx.machine.service("WinRM")
        if svc is not None:
            ctx.machine.set_service_status(svc, "Running")
        ctx.write(
            "WinRM service is already running on this machine.\r\n"
            "WinRM is already set up for remote management on this computer.\r\n"
        )
        return 0
    if verb in ("enumerate", "e", "enum") and "listener" in rest.lower():
        for transport, conf in ctx.machine.listeners.items():
            ctx.write(
                f"Listener\r\n    Address = {conf['Address']}\r\n    Transport = {transport}"
                f"\r\n    Port = {conf['Port']}\r\n    Hostname = {conf.get('Hostname', '')}"
                f"\r\n    Enabled = true\r\n    URLPrefix = wsman\r\n"
                f"    CertificateThumbprint = {conf.get('CertificateThumbprint', '')}\r\n\r\n"
            )
        return 0
    if verb in ("set", "s") and "winrm/config" in rest.lower():
        return 0
    ctx.error(f"The stand-in's winrm does not model '{' '.join(args)}'.\r\n")
    return 1


def _listener_created(transport: str) -> str:
    return (
        "ResourceCreated\r\n    Address = http://schemas.xmlsoap.org/ws/2004/08/addressing/role/"
        "anonymous\r\n    ReferenceParameters\r\n        ResourceURI = http://schemas.microsoft.com"
        "/wbem/wsman/1/config/listener\r\n        SelectorSet\r\n            Selector: Address = "
        f"*, Transport = {transport}\r\n\r\n"
    )


def _netsh(ctx: Context, argv: list[str]) -> int:
    words = [a.lower() for a in argv[1:]]
    if words[:4] == ["advfirewall", "firewall", "add", "rule"]:
        opts = dict(a.split("=", 1) for a in argv[5:] if "=" in a)
        low = {k.lower(): v for k, v in opts.items()}
        port = low.get("localport", "")
        ctx.machine.add_firewall_rule(
            FirewallRule(
                low.get("name", ""),
                low.get("name", ""),
                int(port) if port.isdigit() else None,
                "Inbound" if low.get("dir", "in").lower() == "in" else "Outbound",
                "Allow" if low.get("action", "allow").lower() == "allow" else "Block",
                True,
                low.get("protocol", "any").upper(),
            )
        )
        ctx.write("Ok.\r\n\r\n")
        return 0
    ctx.write(f"The following command was not found: {' '.join(argv[1:])}.\r\n")
    return 1


def _sysprep(ctx: Context, argv: list[str]) -> int:
    flags = {a.lower() for a in argv[1:]}
    if "/generalize" not in flags:
        return 0
    if not ctx.machine.start_sysprep():
        return 1
    done = ctx.machine.settings.sysprep_seconds + 0.5
    if "/shutdown" in flags and ctx.machine.on_guest_shutdown is not None:
        _later(ctx.machine, done, ctx.machine.on_guest_shutdown)
    elif "/reboot" in flags:
        _later(ctx.machine, done, ctx.machine.reboot)
    return 0


def _shutdown(ctx: Context, argv: list[str]) -> int:
    """shutdown /r, /s and /a with Windows' answers: 1190 while one is already scheduled,
    1116 when there is nothing to abort (what Packer's windows-restart relies on)."""
    flags = [a.lower() for a in argv[1:]]
    machine = ctx.machine
    if "/a" in flags:
        with machine.lock:
            timer, machine.pending_shutdown = machine.pending_shutdown, None
        if timer is None:
            ctx.write(
                "Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n"
            )
            return 1116
        timer.cancel()
        return 0
    delay = 30.0
    if "/t" in flags and flags.index("/t") + 1 < len(flags):
        delay = float(flags[flags.index("/t") + 1])
    if "/r" in flags:
        action = machine.reboot
    elif "/s" in flags and machine.on_guest_shutdown is not None:
        action = machine.on_guest_shutdown
    else:
        return 0
    with machine.lock:
        if machine.pending_shutdown is not None:
            ctx.write("A system shutdown has already been scheduled.(1190)\r\n")
            return 1190

        def fire() -> None:
            with machine.lock:
                machine.pending_shutdown = None
            action()

        timer = threading.Timer(machine.settings.guest_seconds(max(delay, 1.0)), fire)
        timer.daemon = True
        machine.pending_shutdown = timer
    timer.start()
    return 0


def _net(ctx: Context, argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1].lower() in ("start", "stop"):
        svc = ctx.machine.service(argv[2])
        if svc is None:
            ctx.error(
                "The service name is invalid.\r\n\r\nMore help is available by typing "
                "NET HELPMSG 2185.\r\n\r\n"
            )
            return 2
        start = argv[1].lower() == "start"
        ctx.machine.set_service_status(svc, "Running" if start else "Stopped")
        verb = "started" if start else "stopped"
        ctx.write(
            f"The {svc.display_name} service is {'starting' if start else 'stopping'}.\r\n"
            f"The {svc.display_name} service was {verb} successfully.\r\n\r\n"
        )
        return 0
    ctx.error("The syntax of this command is:\r\n\r\nNET\r\n")
    return 1


def _certutil(ctx: Context, argv: list[str]) -> int:
    """certutil -encode/-decode [-f]: base64 to and from files, as file transfers over WinRM use.

    The guest keeps text, so bytes are held as UTF-8 with surrogate escapes: a round trip
    through decode and encode gives back exactly the bytes that went in."""
    args = [a for a in argv[1:] if a.lower() not in ("-f", "/f")]
    force = len(args) < len(argv) - 1
    verb = args[0].lower().lstrip("-/") if args else ""
    if verb not in ("encode", "decode") or len(args) != 3:
        ctx.error("CertUtil: Unknown arguments.\r\n")
        return -2147024809  # 0x80070057 E_INVALIDARG
    source, target = _full(ctx, args[1]), _full(ctx, args[2])
    text = ctx.machine.read_file(source)
    if text is None:
        ctx.write(
            f"CertUtil: -{verb} command FAILED: 0x80070002 (WIN32: 2 ERROR_FILE_NOT_FOUND)\r\n"
            "CertUtil: The system cannot find the file specified.\r\n"
        )
        return -2147024894
    if ctx.machine.read_file(target) is not None and not force:
        ctx.write(
            f"CertUtil: -{verb} command FAILED: 0x80070050 (WIN32: 80 ERROR_FILE_EXISTS)\r\n"
            "CertUtil: The file exists.\r\n"
        )
        return -2147024816
    data = text.encode("utf-8", "surrogateescape")
    if verb == "decode":
        body = re.sub(r"-----[A-Z ]+-----", "", text)
        try:
            out = base64.b64decode(re.sub(r"\s+", "", body), validate=True)
        except (binascii.Error, ValueError):
            ctx.write(
                "CertUtil: -decode command FAILED: 0x80090005 (-2146893819 NTE_BAD_DATA)\r\n"
                "CertUtil: Bad Data.\r\n"
            )
            return -2146893819
        result = out.decode("utf-8", "surrogateescape")
    else:
        out = base64.b64encode(data)
        lines = [out[i : i + 64].decode() for i in range(0, len(out), 64)]
        result = "-----BEGIN CERTIFICATE-----\r\n" + "".join(f"{line}\r\n" for line in lines)
        result += "-----END CERTIFICATE-----\r\n"
    ctx.machine.write_file(target, result)
    written = len(result.encode("utf-8", "surrogateescape"))
    ctx.write(
        f"Input Length = {len(data)}\r\nOutput Length = {written}"
        f"\r\nCertUtil: -{verb} command completed successfully.\r\n"
    )
    return 0


PROGRAMS: dict[str, Program] = {
    "certutil": _certutil,
    "cmd": _cmd,
    "powershell": powershell_exe,
    "hostname": _hostname,
    "whoami": _whoami,
    "ipconfig": _ipconfig,
    "winrm": _winrm,
    "netsh": _netsh,
    "sysprep": _sysprep,
    "shutdown": _shutdown,
    "net": _net,
}


def run_sh(script: str, hostname: str) -> tuple[str, str, int]:
    """RunShellScript on a Linux VM: a few shell words, no more (no Linux guest is modelled)."""
    out: list[str] = []
    for raw in script.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "echo":
            out.append(rest.strip("'\"") + "\n")
        elif word == "hostname":
            out.append(hostname + "\n")
        elif word == "true" or word.startswith("set"):
            continue
        elif word == "exit":
            return "".join(out), "", int(rest or 0)
        else:
            return (
                "".join(out),
                f"/var/lib/waagent/run-command/download/0/script.sh: line 1: "
                f"{word}: command not found\n",
                127,
            )
    return "".join(out), "", 0
