"""The cmdlets the fake Windows host knows, with PowerShell 5.1's output and error texts.

Each cmdlet declares its parameters (positional order, switches, aliases) so binding fails the
way PowerShell does: an unknown parameter is `NamedParameterNotFound`, an unknown command is
`CommandNotFoundException`. Native programs (winrm, sysprep.exe, netsh, ...) go to `native`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import ntpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from standin import native
from standin import ps_parser as ast
from standin.powershell import Session, Terminating, as_list, truthy
from standin.psformat import PSObject, format_output, scalar
from standin.windows import FEATURES, SETUP_STATE_KEY, FirewallRule

COMMON = {
    "erroraction": "ErrorAction",
    "ea": "ErrorAction",
    "warningaction": "WarningAction",
    "wa": "WarningAction",
    "verbose": "Verbose",
    "debug": "Debug",
    "informationaction": "InformationAction",
    "confirm": "Confirm",
    "whatif": "WhatIf",
}
COMMON_SWITCHES = {"Verbose", "Debug", "Confirm", "WhatIf"}


@dataclass
class Spec:
    func: Callable[..., list[Any]]
    positional: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    switches: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    rest: str | None = None  # parameter taking all remaining positional values
    pipeline: str | None = None  # parameter bound from pipeline input


CMDLETS: dict[str, tuple[str, Spec]] = {}
ALIASES = {
    "echo": "Write-Output",
    "write": "Write-Output",
    "select": "Select-Object",
    "sleep": "Start-Sleep",
    "gsv": "Get-Service",
    "sasv": "Start-Service",
    "spsv": "Stop-Service",
    "gc": "Get-Content",
    "cat": "Get-Content",
    "type": "Get-Content",
    "rm": "Remove-Item",
    "del": "Remove-Item",
    "ri": "Remove-Item",
    "rmdir": "Remove-Item",
    "erase": "Remove-Item",
    "ni": "New-Item",
    "gp": "Get-ItemProperty",
    "sc": "Set-Content",
    "ac": "Add-Content",
    "dir": "Get-ChildItem",
    "ls": "Get-ChildItem",
    "gci": "Get-ChildItem",
    "Add-WindowsFeature": "Install-WindowsFeature",
    "Remove-WindowsFeature": "Uninstall-WindowsFeature",
    "md": "mkdir",
    "set": "Set-Variable",
    "sv": "Set-Variable",
    "ipmo": "Import-Module",
}
KNOWN_MODULES = {
    "servermanager",
    "netsecurity",
    "webadministration",
    "pki",
    "microsoft.powershell.management",
    "microsoft.powershell.utility",
}


def cmdlet(name: str, **spec_kwargs: Any) -> Callable[[Callable[..., list[Any]]], Any]:
    def register(func: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        CMDLETS[name.lower()] = (name, Spec(func, **spec_kwargs))
        return func

    return register


# -- dispatch ---------------------------------------------------------------------------------
def invoke(sess: Session, node: ast.Command, data: list[Any] | None) -> list[Any]:
    sess.check_cancel()
    name = node.name if isinstance(node.name, str) else scalar(sess.eval(node.name))
    resolved = next((v for k, v in ALIASES.items() if k.lower() == name.lower()), name)
    entry = CMDLETS.get(resolved.lower())
    if entry is not None:
        canonical, spec = entry
        args, action = bind(sess, node, canonical, spec, data)
        return spec.func(sess, node, args, action)
    argv = [name] + [scalar(a) for a in flatten(sess, node.args)]
    run = native.find(name)
    if run is not None:
        out, err, rc = run(
            native.Context(sess.machine, sess.user, sess.cwd, ps=True, cancel=sess.cancel), argv
        )
        sess.variables["lastexitcode"] = rc
        if err:
            sess.write_err("Error", err)
        if rc != 0:
            sess.last_ok = False
        lines = out.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines
    sess.report(
        sess.record(
            f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, "
            "or operable program. Check the spelling of the name, or if a path was included, "
            "verify "
            "that the path is correct and try again.",
            node,
            f"ObjectNotFound: ({name}:String) [], CommandNotFoundException",
            "CommandNotFoundException",
        )
    )
    return []


def flatten(sess: Session, args: list[ast.Node]) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if isinstance(a, ast.Param):
            out.append("-" + a.name + (":" + scalar(sess.eval(a.value)) if a.value else ""))
        else:
            out.extend(as_list(sess.eval(a)) or [""])
    return out


def bind(
    sess: Session, node: ast.Command, name: str, spec: Spec, data: list[Any] | None
) -> tuple[dict[str, Any], str | None]:
    names = {p.lower(): p for p in (*spec.positional, *spec.params, *spec.switches)}
    names.update({k.lower(): v for k, v in spec.aliases.items()})
    bound: dict[str, Any] = {}
    positional: list[Any] = []
    action: str | None = None
    args = list(node.args)
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not isinstance(a, ast.Param):
            positional.append(sess.eval(a))
            continue
        pname = resolve_param(sess, node, name, a.name, names)
        if pname in spec.switches or pname in COMMON_SWITCHES:
            bound[pname] = True if a.value is None else truthy(sess.eval(a.value))
            continue
        if a.value is not None:
            value = sess.eval(a.value)
        elif i < len(args) and not isinstance(args[i], ast.Param):
            value = sess.eval(args[i])
            i += 1
        else:
            raise Terminating(
                sess.record(
                    f"Missing an argument for parameter '{pname}'. Specify a parameter of type "
                    "'System.String' and try again.",
                    node,
                    f"InvalidArgument: (:) [{name}], ParameterBindingException",
                    f"MissingArgument,Microsoft.PowerShell.Commands.{name.replace('-', '')}Command",
                    invocation=name,
                )
            )
        if pname == "ErrorAction":
            action = scalar(value)
        elif pname in ("WarningAction", "InformationAction"):
            pass
        else:
            bound[pname] = value
    free = [p for p in spec.positional if p not in bound]
    for value in positional:
        if free:
            bound[free.pop(0)] = value
        elif spec.rest:
            bound.setdefault(spec.rest, [])
            bound[spec.rest] = as_list(bound[spec.rest]) + as_list(value)
        else:
            raise Terminating(
                sess.record(
                    f"A positional parameter cannot be found that accepts argument "
                    f"'{scalar(value)}'.",
                    node,
                    f"InvalidArgument: (:) [{name}], ParameterBindingException",
                    f"PositionalParameterNotFound,Microsoft.PowerShell.Commands."
                    f"{name.replace('-', '')}Command",
                    invocation=name,
                )
            )
    if data is not None and spec.pipeline and spec.pipeline not in bound:
        bound[spec.pipeline] = data
    return bound, action


def resolve_param(
    sess: Session, node: ast.Command, cmd: str, given: str, names: dict[str, str]
) -> str:
    low = given.lower()
    if low in COMMON:
        return COMMON[low]
    if low in names:
        return names[low]
    hits = {v for k, v in names.items() if k.startswith(low)}
    if len(hits) == 1:
        return hits.pop()
    raise Terminating(
        sess.record(
            f"A parameter cannot be found that matches parameter name '{given}'.",
            node,
            f"InvalidArgument: (:) [{cmd}], ParameterBindingException",
            f"NamedParameterNotFound,Microsoft.PowerShell.Commands.{cmd.replace('-', '')}Command",
            invocation=cmd,
        )
    )


def not_found(sess: Session, node: ast.Command, cmd: str, path: str, action: str | None) -> None:
    sess.report(
        sess.record(
            f"Cannot find path '{path}' because it does not exist.",
            node,
            f"ObjectNotFound: ({path}:String) [{cmd}], ItemNotFoundException",
            f"PathNotFound,Microsoft.PowerShell.Commands.{cmd.replace('-', '')}Command",
            invocation=cmd,
        ),
        action,
    )


def full_path(sess: Session, path: str) -> str:
    p = path.replace("/", "\\")
    if p.lower().startswith("microsoft.powershell.core\\filesystem::"):
        p = p.split("::", 1)[1]
    if len(p) >= 2 and p[1] == ":":
        return ntpath.normpath(p)
    return ntpath.normpath(ntpath.join(sess.cwd, p))


# -- output ------------------------------------------------------------------------------------
@cmdlet(
    "Write-Output",
    positional=("InputObject",),
    rest="InputObject",
    switches=("NoEnumerate",),
    pipeline="InputObject",
)
def write_output(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return as_list(args.get("InputObject"))


@cmdlet(
    "Write-Host",
    positional=("Object",),
    rest="Object",
    params=("ForegroundColor", "BackgroundColor", "Separator"),
    switches=("NoNewline",),
    pipeline="Object",
)
def write_host(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    sep = scalar(args.get("Separator", " "))
    text = sep.join(scalar(v) for v in as_list(args.get("Object")))
    sess.write_out(text + ("" if args.get("NoNewline") else "\r\n"))
    return []


@cmdlet(
    "Write-Error",
    positional=("Message",),
    params=("Category", "ErrorId"),
    aliases={"Msg": "Message"},
)
def write_error(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    _, _, line = ast.line_of(sess.script, node.pos)
    msg = scalar(args.get("Message"))
    rec = sess.record(
        msg,
        node,
        "NotSpecified: (:) [Write-Error], WriteErrorException",
        "Microsoft.PowerShell.Commands.WriteErrorException",
        invocation=line.strip(),
    )
    sess.report(rec, action)
    return []


@cmdlet("Write-Warning", positional=("Message",))
def write_warning(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    sess.write_err("warning", scalar(args.get("Message")))
    return []


@cmdlet("Write-Verbose", positional=("Message",))
def write_verbose(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    if args.get("Verbose") or str(sess.variables.get("verbosepreference")).lower() == "continue":
        sess.write_err("verbose", scalar(args.get("Message")))
    return []


@cmdlet(
    "Write-Progress",
    positional=("Activity", "Status"),
    params=("PercentComplete", "Id", "CurrentOperation"),
    switches=("Completed",),
)
def write_progress(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return []


@cmdlet("Out-Null", params=("InputObject",), pipeline="InputObject")
def out_null(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return []


@cmdlet("Out-String", params=("InputObject", "Width"), switches=("Stream",), pipeline="InputObject")
def out_string(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return [format_output(as_list(args.get("InputObject")))]


@cmdlet(
    "Select-Object",
    positional=("Property",),
    params=("ExpandProperty", "First", "Last"),
    pipeline="InputObject",
    aliases={"InputObject": "InputObject"},
)
def select_object(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    items = as_list(args.get("InputObject"))
    if "First" in args:
        items = items[: int(args["First"])]
    if "Last" in args:
        items = items[-int(args["Last"]) :]
    if "ExpandProperty" in args:
        prop = scalar(args["ExpandProperty"])
        return [o.get(prop) if isinstance(o, PSObject) else None for o in items]
    props = [scalar(p) for p in as_list(args.get("Property"))]
    if not props:
        return items
    out = []
    for o in items:
        values = {p: (o.get(p) if isinstance(o, PSObject) else None) for p in props}
        out.append(
            PSObject(
                "Selected." + getattr(o, "type_name", "System.Object"),
                values,
                view="table" if len(props) < 5 else "list",
            )
        )
    return out


# -- variables, modules, misc --------------------------------------------------------------------
@cmdlet("Set-Variable", positional=("Name", "Value"), params=("Scope",), switches=("Force",))
def set_variable(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    name = scalar(args.get("Name"))
    if name.lower().startswith("variable:"):
        name = name[len("variable:") :]
    sess.set_var(name, args.get("Value"))
    return []


@cmdlet("Set-ExecutionPolicy", positional=("ExecutionPolicy", "Scope"), switches=("Force",))
def set_execution_policy(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    return []


@cmdlet("Import-Module", positional=("Name",))
def import_module(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    for mod in as_list(args.get("Name")):
        if scalar(mod).lower() not in KNOWN_MODULES:
            sess.report(
                sess.record(
                    f"The specified module '{scalar(mod)}' was not loaded because no valid module "
                    "file was found in any module directory.",
                    node,
                    f"ResourceUnavailable: ({scalar(mod)}:String) [Import-Module], "
                    "FileNotFoundException",
                    "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand",
                ),
                action,
            )
    return []


@cmdlet("Get-Date", params=("Format",), switches=("UFormat",))
def get_date(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    now = dt.datetime.now()
    if "Format" in args:
        fmt = (
            scalar(args["Format"])
            .replace("yyyy", "%Y")
            .replace("MM", "%m")
            .replace("dd", "%d")
            .replace("HH", "%H")
            .replace("mm", "%M")
            .replace("ss", "%S")
        )
        return [now.strftime(fmt)]
    return [now.strftime("%A, %B %d, %Y %I:%M:%S %p").replace(" 0", " ")]


@cmdlet(
    "Start-Sleep",
    positional=("Seconds",),
    params=("Milliseconds",),
    aliases={"s": "Seconds", "ms": "Milliseconds", "m": "Milliseconds"},
)
def start_sleep(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    seconds = float(scalar(args.get("Seconds", 0)) or 0)
    seconds += float(scalar(args.get("Milliseconds", 0)) or 0) / 1000
    sess.sleep(seconds)
    return []


@cmdlet("Restart-Computer", params=("ComputerName", "Wait", "Timeout"), switches=("Force",))
def restart_computer(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    sess.reboot_requested = True
    return []


@cmdlet("Stop-Computer", params=("ComputerName",), switches=("Force",))
def stop_computer(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    if sess.machine.on_guest_shutdown is not None:
        sess.machine.on_guest_shutdown()
    return []


# -- services ----------------------------------------------------------------------------------
def service_object(sess: Session, name: str) -> PSObject:
    svc = sess.machine.service(name)
    assert svc is not None
    return PSObject(
        "System.ServiceProcess.ServiceController",
        {
            "Status": svc.current_status(_now()),
            "Name": svc.name,
            "DisplayName": svc.display_name,
            "StartType": svc.start_type,
        },
        columns=("Status", "Name", "DisplayName"),
        widths=(8, 18, 40),
    )


def _now() -> float:
    import time

    return time.monotonic()


def service_names(sess: Session, node: Any, cmd: str, value: Any, action: str | None) -> list[str]:
    out: list[str] = []
    for item in as_list(value):
        name = item.get("Name") if isinstance(item, PSObject) else scalar(item)
        if any(ch in name for ch in "*?"):
            out.extend(
                s.name
                for s in sess.machine.services.values()
                if fnmatch.fnmatch(s.name.lower(), name.lower())
            )
        elif sess.machine.service(name) is not None:
            out.append(sess.machine.service(name).name)  # type: ignore[union-attr]
        else:
            sess.report(
                sess.record(
                    f"Cannot find any service with service name '{name}'.",
                    node,
                    f"ObjectNotFound: ({name}:String) [{cmd}], ServiceCommandException",
                    f"NoServiceFoundForGivenName,Microsoft.PowerShell.Commands."
                    f"{cmd.replace('-', '')}Command",
                    invocation=cmd,
                ),
                action,
            )
    return out


@cmdlet("Get-Service", positional=("Name",), params=("DisplayName",), pipeline="Name")
def get_service(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    if "Name" not in args:
        names = sorted(s.name for s in sess.machine.services.values())
    else:
        names = service_names(sess, node, "Get-Service", args["Name"], action)
    return [service_object(sess, n) for n in names]


def _change_service(
    sess: Session, node: Any, args: dict[str, Any], action: str | None, cmd: str, status: str
) -> list[Any]:
    out = []
    for name in service_names(sess, node, cmd, args.get("Name") or args.get("InputObject"), action):
        svc = sess.machine.service(name)
        assert svc is not None
        if status == "Running" and svc.start_type == "Disabled":
            sess.report(
                sess.record(
                    f"Service '{svc.display_name} ({svc.name})' cannot be started due to the "
                    f"following error: Cannot start service {svc.name} on computer '.'.",
                    node,
                    "OpenError: (System.ServiceProcess.ServiceController:ServiceController) "
                    f"[{cmd}], "
                    "ServiceCommandException",
                    "CouldNotStartService,Microsoft.PowerShell.Commands."
                    f"{cmd.replace('-', '')}Command",
                    invocation=cmd,
                ),
                action,
            )
            continue
        sess.machine.set_service_status(svc, status)
        if args.get("PassThru"):
            out.append(service_object(sess, name))
    return out


@cmdlet(
    "Start-Service",
    positional=("Name",),
    params=("InputObject",),
    switches=("PassThru",),
    pipeline="InputObject",
)
def start_service(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return _change_service(sess, node, args, action, "Start-Service", "Running")


@cmdlet(
    "Stop-Service",
    positional=("Name",),
    params=("InputObject",),
    switches=("PassThru", "Force", "NoWait"),
    pipeline="InputObject",
)
def stop_service(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return _change_service(sess, node, args, action, "Stop-Service", "Stopped")


@cmdlet(
    "Restart-Service",
    positional=("Name",),
    params=("InputObject",),
    switches=("PassThru", "Force"),
    pipeline="InputObject",
)
def restart_service(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    return _change_service(sess, node, args, action, "Restart-Service", "Running")


@cmdlet(
    "Set-Service",
    positional=("Name",),
    params=("StartupType", "Status", "DisplayName", "Description", "InputObject"),
    switches=("PassThru",),
    pipeline="InputObject",
)
def set_service(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    for name in service_names(
        sess, node, "Set-Service", args.get("Name") or args.get("InputObject"), action
    ):
        svc = sess.machine.service(name)
        assert svc is not None
        if "StartupType" in args:
            kind = scalar(args["StartupType"]).lower()
            mapping = {
                "automatic": "Automatic",
                "manual": "Manual",
                "disabled": "Disabled",
                "automaticdelayedstart": "Automatic",
            }
            if kind not in mapping:
                raise Terminating(
                    sess.record(
                        f"Cannot bind parameter 'StartupType'. Cannot convert value "
                        f'"{scalar(args["StartupType"])}" to type '
                        '"System.ServiceProcess.ServiceStartMode".',
                        node,
                        "InvalidArgument: (:) [Set-Service], ParameterBindingException",
                        "CannotConvertArgumentNoMessage,Microsoft.PowerShell.Commands.SetServiceCommand",
                        invocation="Set-Service",
                    )
                )
            svc.start_type = mapping[kind]
        if "Status" in args:
            wanted = scalar(args["Status"]).capitalize()
            if wanted == "Running" and svc.start_type == "Disabled":
                return _change_service(sess, node, {"Name": name}, action, "Set-Service", "Running")
            sess.machine.set_service_status(svc, "Running" if wanted == "Running" else "Stopped")
        sess.machine.changed()
    return []


# -- Windows features -----------------------------------------------------------------------
@cmdlet(
    "Install-WindowsFeature",
    positional=("Name",),
    params=("Source", "LogPath", "ComputerName"),
    switches=("IncludeManagementTools", "IncludeAllSubFeature", "Restart"),
    pipeline="Name",
)
def install_feature(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    added: list[str] = []
    restart = False
    for raw in as_list(args.get("Name")):
        name = raw.get("Name") if isinstance(raw, PSObject) else scalar(raw)
        key = sess.machine.feature_key(name)
        if key is None:
            raise Terminating(
                sess.record(
                    f"ArgumentNotValid: The role, role service, or feature name is not valid: "
                    f"'{name}'. The name was not found.",
                    node,
                    f"InvalidArgument: ({name}:String) [Install-WindowsFeature], Exception",
                    "NameDoesNotExist,Microsoft.Windows.ServerManager.Commands.AddWindowsFeatureCommand",
                    invocation="Install-WindowsFeature",
                )
            )
        added += sess.machine.install_feature(key)
        restart = restart or FEATURES[key].restart_needed
    code = ("SuccessRestartRequired" if restart else "Success") if added else "NoChangeNeeded"
    return [
        PSObject(
            "Microsoft.Windows.ServerManager.Commands.FeatureOperationResult",
            {
                "Success": True,
                "Restart Needed": "Yes" if restart and added else "No",
                "Exit Code": code,
                "Feature Result": sorted(added),
                "RestartNeeded": "Yes" if restart else "No",
                "ExitCode": code,
            },
            columns=("Success", "Restart Needed", "Exit Code", "Feature Result"),
            widths=(7, 14, 14, 44),
        )
    ]


@cmdlet(
    "Uninstall-WindowsFeature",
    positional=("Name",),
    switches=("IncludeManagementTools", "Remove", "Restart"),
)
def uninstall_feature(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    raise Terminating(
        sess.record(
            "Uninstall-WindowsFeature is not modelled by the loopback stand-in.",
            node,
            "NotImplemented: (:) [Uninstall-WindowsFeature], NotImplementedException",
            "StandinNotModelled",
            invocation="Uninstall-WindowsFeature",
        )
    )


@cmdlet("Get-WindowsFeature", positional=("Name",), params=("ComputerName",))
def get_feature(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    wanted = [scalar(n) for n in as_list(args.get("Name"))] or ["*"]
    out = []
    for key, fdef in FEATURES.items():
        if not any(fnmatch.fnmatch(key.lower(), w.lower()) for w in wanted):
            continue
        installed = bool(sess.machine.features.get(key))
        mark = "[X]" if installed else "[ ]"
        out.append(
            PSObject(
                "Microsoft.Windows.ServerManager.Commands.Feature",
                {
                    "Display Name": "    " * fdef.depth + f"{mark} {fdef.display}",
                    "Name": key,
                    "Install State": "Installed" if installed else "Available",
                    "InstallState": "Installed" if installed else "Available",
                    "Installed": installed,
                    "DisplayName": fdef.display,
                },
                columns=("Display Name", "Name", "Install State"),
                widths=(55, 26, 13),
                right=("Install State",),
            )
        )
    if not out:
        sess.report(
            sess.record(
                f"ArgumentNotValid: The role, role service, or feature name is not valid: "
                f"'{wanted[0]}'. The name was not found.",
                node,
                f"InvalidArgument: ({wanted[0]}:String) [Get-WindowsFeature], Exception",
                "NameDoesNotExist,Microsoft.Windows.ServerManager.Commands.GetWindowsFeatureCommand",
                invocation="Get-WindowsFeature",
            ),
            action,
        )
    return out


# -- files -------------------------------------------------------------------------------------
def _content_text(value: Any) -> str:
    return "\r\n".join(scalar(v) for v in as_list(value))


def _write(
    sess: Session, node: Any, args: dict[str, Any], action: str | None, cmd: str, append: bool
) -> list[Any]:
    for raw in as_list(args.get("Path")):
        path = full_path(sess, scalar(raw))
        if not sess.machine.parent_exists(path):
            not_found(sess, node, cmd, ntpath.dirname(path), action)
            continue
        text = _content_text(args.get("Value"))
        nonewline = args.get("NoNewline")
        existing = sess.machine.read_file(path) if append else None
        if append and existing and not existing.endswith("\n"):
            text = "\r\n" + text
        sess.machine.write_file(path, text + ("" if nonewline else "\r\n"), append=append)
    return []


@cmdlet(
    "Set-Content",
    positional=("Path", "Value"),
    params=("Encoding",),
    switches=("Force", "NoNewline", "PassThru"),
    pipeline="Value",
    aliases={"FilePath": "Path", "LiteralPath": "Path"},
)
def set_content(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return _write(sess, node, args, action, "Set-Content", append=False)


@cmdlet(
    "Add-Content",
    positional=("Path", "Value"),
    params=("Encoding",),
    switches=("Force", "NoNewline", "PassThru"),
    pipeline="Value",
    aliases={"LiteralPath": "Path"},
)
def add_content(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return _write(sess, node, args, action, "Add-Content", append=True)


@cmdlet(
    "Out-File",
    positional=("FilePath",),
    params=("Encoding", "InputObject", "Width"),
    switches=("Append", "Force", "NoNewline", "NoClobber"),
    pipeline="InputObject",
    aliases={"Path": "FilePath", "LiteralPath": "FilePath"},
)
def out_file(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    text = format_output(as_list(args.get("InputObject")))
    return _write(
        sess,
        node,
        {
            "Path": args.get("FilePath"),
            "Value": text.rstrip("\r\n"),
            "NoNewline": args.get("NoNewline"),
        },
        action,
        "Out-File",
        append=bool(args.get("Append")),
    )


@cmdlet(
    "Get-Content",
    positional=("Path",),
    params=("TotalCount", "Tail", "Encoding"),
    switches=("Raw", "Force"),
    aliases={"LiteralPath": "Path", "First": "TotalCount", "Head": "TotalCount"},
)
def get_content(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    out: list[Any] = []
    for raw in as_list(args.get("Path")):
        path = full_path(sess, scalar(raw))
        text = sess.machine.read_file(path)
        if text is None:
            not_found(sess, node, "Get-Content", path, action)
            continue
        if args.get("Raw"):
            out.append(text)
            continue
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        out.extend(lines)
    return out


def _special_path_exists(sess: Session, path: str) -> bool | None:
    low = path.lower().rstrip("\\")
    if low.startswith("variable:"):
        name = low.split(":", 1)[1].split(":")[-1]
        return name in sess.variables
    if low.startswith("env:"):
        return sess.get_var("env:" + low[4:].lstrip("\\")) is not None
    if low.startswith("hklm:") or low.startswith("registry::"):
        return low in (SETUP_STATE_KEY.lower(), r"hklm:\software", r"hklm:\software\microsoft")
    if low.startswith("wsman:"):
        if "listener" in low:
            return bool(sess.machine.listeners)
        return True
    if low.startswith("cert:"):
        thumb = low.rsplit("\\", 1)[-1].upper()
        return thumb in sess.machine.certificates or low.endswith(("\\my", "cert:"))
    return None


@cmdlet(
    "Test-Path",
    positional=("Path",),
    params=("PathType",),
    switches=("IsValid",),
    aliases={"LiteralPath": "Path"},
)
def test_path(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    out = []
    for raw in as_list(args.get("Path")):
        special = _special_path_exists(sess, scalar(raw))
        if special is not None:
            out.append(special)
            continue
        path = full_path(sess, scalar(raw))
        kind = scalar(args.get("PathType", "Any")).lower()
        is_file = sess.machine.read_file(path) is not None
        is_dir = sess.machine.is_dir(path)
        out.append({"leaf": is_file, "container": is_dir}.get(kind, is_file or is_dir))
    return out


@cmdlet(
    "Remove-Item",
    positional=("Path",),
    switches=("Force", "Recurse"),
    aliases={"LiteralPath": "Path"},
)
def remove_item(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    for raw in as_list(args.get("Path")):
        if pswsman.is_wsman(scalar(raw)):
            pswsman.wsman_remove(sess, node, scalar(raw), bool(args.get("Recurse")), action)
            continue
        if pswsman.is_cert(scalar(raw)):
            pswsman.cert_remove(sess, node, scalar(raw), action)
            continue
        path = full_path(sess, scalar(raw))
        if not sess.machine.remove(path):
            not_found(sess, node, "Remove-Item", path, action)
    return []


@cmdlet(
    "New-Item",
    positional=("Path",),
    params=(
        "ItemType",
        "Value",
        "Name",
        "Transport",
        "Address",
        "CertificateThumbPrint",
        "HostName",
        "Port",
    ),
    switches=("Force",),
    aliases={"Type": "ItemType"},
)
def new_item(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    raw = scalar(args.get("Path", sess.cwd))
    if raw.lower().startswith("wsman:"):
        return _new_listener(sess, node, args)
    path = full_path(sess, ntpath.join(raw, scalar(args["Name"])) if "Name" in args else raw)
    kind = scalar(args.get("ItemType", "File")).lower()
    exists = sess.machine.read_file(path) is not None or sess.machine.is_dir(path)
    if exists and not args.get("Force"):
        sess.report(
            sess.record(
                f"An item with the specified name {path} already exists.",
                node,
                f"ResourceExists: ({path}:String) [New-Item], IOException",
                "DirectoryExist,Microsoft.PowerShell.Commands.NewItemCommand",
                invocation="New-Item",
            ),
            action,
        )
        return []
    if kind == "directory":
        sess.machine.mkdir(path)
        mode = "d-----"
        length = ""
    else:
        if not sess.machine.parent_exists(path) and not args.get("Force"):
            not_found(sess, node, "New-Item", ntpath.dirname(path), action)
            return []
        sess.machine.write_file(path, _content_text(args.get("Value")) if "Value" in args else "")
        mode = "-a----"
        length = str(len(sess.machine.read_file(path) or ""))
    stamp = dt.datetime.now().strftime("%m/%d/%Y   %I:%M %p").lstrip("0")
    return [
        PSObject(
            "System.IO.FileSystemInfo",
            {
                "Mode": mode,
                "LastWriteTime": stamp,
                "Length": length,
                "Name": ntpath.basename(path),
                "FullName": path,
            },
            columns=("Mode", "LastWriteTime", "Length", "Name"),
            widths=(13, 20, 14, 40),
            preamble=f"    Directory: {ntpath.dirname(path)}",
        )
    ]


def _new_listener(sess: Session, node: Any, args: dict[str, Any]) -> list[Any]:
    transport = scalar(args.get("Transport", "HTTP")).upper()
    if transport != "HTTPS":
        return []
    thumb = scalar(args.get("CertificateThumbPrint", ""))
    problem = sess.machine.add_https_listener(thumb, scalar(args.get("HostName", "")))
    if problem == "exists":
        raise Terminating(
            sess.record(
                "The WinRM client cannot process the request. A listener with the same Address and "
                "Transport already exists.",
                node,
                "InvalidOperation: (:) [New-Item], InvalidOperationException",
                "System.InvalidOperationException,Microsoft.PowerShell.Commands.NewItemCommand",
                invocation="New-Item",
            )
        )
    if problem == "nocert":
        raise Terminating(
            sess.record(
                "Cannot find the certificate that is requested.",
                node,
                "InvalidOperation: (:) [New-Item], InvalidOperationException",
                "System.InvalidOperationException,Microsoft.PowerShell.Commands.NewItemCommand",
                invocation="New-Item",
            )
        )
    return [
        PSObject(
            "Microsoft.WSMan.Management.WSManConfigContainerElement",
            {
                "Type": "Container",
                "Keys": ["Transport=HTTPS", "Address=*"],
                "Name": "Listener_1305953032",
            },
            columns=("Type", "Keys", "Name"),
            widths=(15, 34, 30),
            preamble="   WSManConfig: Microsoft.WSMan.Management\\WSMan::localhost\\Listener",
        )
    ]


@cmdlet("mkdir", positional=("Path",), switches=("Force",))
def mkdir(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    return new_item(
        sess,
        node,
        {"Path": args.get("Path"), "ItemType": "Directory", "Force": args.get("Force")},
        action,
    )


@cmdlet("Set-Item", positional=("Path", "Value"), switches=("Force", "PassThru"))
def set_item(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    path = scalar(args.get("Path"))
    if not path.lower().startswith(("wsman:", "env:", "variable:")):
        raise Terminating(
            sess.record(
                f"Set-Item on '{path}' is not modelled by the loopback stand-in.",
                node,
                "NotImplemented: (:) [Set-Item], NotImplementedException",
                "StandinNotModelled",
                invocation="Set-Item",
            )
        )
    return []


@cmdlet("Get-ItemProperty", positional=("Path", "Name"), aliases={"LiteralPath": "Path"})
def get_item_property(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    path = scalar(args.get("Path")).rstrip("\\")
    if path.lower() != SETUP_STATE_KEY.lower():
        not_found(sess, node, "Get-ItemProperty", path, action)
        return []
    props: dict[str, Any] = {"ImageState": sess.machine.current_image_state()}
    props.update(
        {
            "PSPath": "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft"
            "\\Windows\\CurrentVersion\\Setup\\State",
            "PSParentPath": "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\"
            "Microsoft\\Windows\\CurrentVersion\\Setup",
            "PSChildName": "State",
            "PSDrive": "HKLM",
            "PSProvider": "Microsoft.PowerShell.Core\\Registry",
        }
    )
    if "Name" in args and scalar(args["Name"]).lower() != "imagestate":
        sess.report(
            sess.record(
                f"Property {scalar(args['Name'])} does not exist at path "
                "HKEY_LOCAL_MACHINE\\SOFTWARE"
                "\\Microsoft\\Windows\\CurrentVersion\\Setup\\State.",
                node,
                f"InvalidArgument: ({scalar(args['Name'])}:String) [Get-ItemProperty], "
                "PSArgumentException",
                "System.Management.Automation.PSArgumentException,"
                "Microsoft.PowerShell.Commands.GetItemPropertyCommand",
                invocation="Get-ItemProperty",
            ),
            action,
        )
        return []
    return [PSObject("System.Management.Automation.PSCustomObject", props, view="list")]


@cmdlet(
    "Get-ChildItem",
    positional=("Path",),
    params=("Filter",),
    switches=("Recurse", "Force", "File", "Directory"),
    aliases={"LiteralPath": "Path"},
)
def get_child_item(sess: Session, node: Any, args: dict[str, Any], action: str | None) -> list[Any]:
    if pswsman.is_wsman(scalar(args.get("Path", ""))):
        return pswsman.wsman_children(sess, node, scalar(args["Path"]), action)
    base = full_path(sess, scalar(args.get("Path", sess.cwd)))
    if not sess.machine.is_dir(base):
        not_found(sess, node, "Get-ChildItem", base, action)
        return []
    key = sess.machine.norm(base)
    out = []
    entries = [(p, True) for k, p in sess.machine.dirs.items() if ntpath.dirname(k) == key]
    entries += [(p, False) for k, (p, _) in sess.machine.files.items() if ntpath.dirname(k) == key]
    for path, is_dir in sorted(entries, key=lambda e: (not e[1], e[0].lower())):
        text = "" if is_dir else str(len(sess.machine.read_file(path) or ""))
        out.append(
            PSObject(
                "System.IO.FileSystemInfo",
                {
                    "Mode": "d-----" if is_dir else "-a----",
                    "LastWriteTime": "",
                    "Length": text,
                    "Name": ntpath.basename(path),
                    "FullName": path,
                },
                columns=("Mode", "LastWriteTime", "Length", "Name"),
                widths=(13, 20, 14, 40),
                preamble=f"    Directory: {base}",
            )
        )
    return out


# -- certificates, firewall, remoting -------------------------------------------------------------
@cmdlet(
    "New-SelfSignedCertificate",
    params=(
        "DnsName",
        "CertStoreLocation",
        "Subject",
        "FriendlyName",
        "NotAfter",
        "KeyLength",
        "KeyAlgorithm",
        "KeyExportPolicy",
        "Type",
        "KeyUsage",
        "HashAlgorithm",
    ),
)
def new_self_signed(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    names = [scalar(n) for n in as_list(args.get("DnsName"))]
    if not names and "Subject" in args:
        names = [scalar(args["Subject"]).removeprefix("CN=")]
    if not names:
        raise Terminating(
            sess.record(
                "CertEnroll::CX509Enrollment::_CreateRequest: Provider type not defined. "
                "0x80090017 (-2146893801 NTE_PROV_TYPE_NOT_DEF)",
                node,
                "NotSpecified: (:) [New-SelfSignedCertificate], Exception",
                "System.Exception,Microsoft.CertificateServices.Commands.NewSelfSignedCertificateCommand",
                invocation="New-SelfSignedCertificate",
            )
        )
    thumb = sess.machine.new_certificate(names[0])
    return [
        PSObject(
            "System.Security.Cryptography.X509Certificates.X509Certificate2",
            {
                "Thumbprint": thumb,
                "Subject": f"CN={names[0]}",
                "DnsNameList": names,
                "FriendlyName": scalar(args.get("FriendlyName", "")),
            },
            columns=("Thumbprint", "Subject"),
            widths=(41, 40),
            preamble="   PSParentPath: Microsoft.PowerShell.Security\\Certificate::"
            "LocalMachine\\My",
        )
    ]


@cmdlet(
    "New-NetFirewallRule",
    params=(
        "Name",
        "DisplayName",
        "Direction",
        "Protocol",
        "LocalPort",
        "Action",
        "Profile",
        "Enabled",
        "Description",
        "Group",
        "RemoteAddress",
        "Program",
    ),
)
def new_firewall_rule(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    display = scalar(args.get("DisplayName") or args.get("Name") or "")
    name = scalar(args.get("Name") or "{" + display + "}")
    ports = [int(str(p)) for p in as_list(args.get("LocalPort")) if str(p).isdigit()]
    direction = scalar(args.get("Direction", "Inbound")).capitalize()
    verdict = scalar(args.get("Action", "Allow")).capitalize()
    enabled = scalar(args.get("Enabled", "True")).lower() in ("true", "1")
    for port in ports or [None]:
        sess.machine.add_firewall_rule(
            FirewallRule(
                name,
                display,
                port,
                direction,
                verdict,
                enabled,
                scalar(args.get("Protocol", "Any")).upper(),
            )
        )
    return [
        PSObject(
            "Microsoft.Management.Infrastructure.CimInstance#MSFT_NetFirewallRule",
            {
                "Name": name,
                "DisplayName": display,
                "Description": scalar(args.get("Description", "")),
                "DisplayGroup": "",
                "Group": "",
                "Enabled": "True" if enabled else "False",
                "Profile": scalar(args.get("Profile", "Any")),
                "Platform": "{}",
                "Direction": direction,
                "Action": verdict,
                "EdgeTraversalPolicy": "Block",
                "LooseSourceMapping": "False",
                "LocalOnlyMapping": "False",
                "Owner": "",
                "PrimaryStatus": "OK",
                "Status": "The rule was parsed successfully from the store. (65536)",
                "EnforcementStatus": "NotApplicable",
                "PolicyStoreSource": "PersistentStore",
                "PolicyStoreSourceType": "Local",
            },
            view="list",
        )
    ]


@cmdlet("Enable-PSRemoting", switches=("Force", "SkipNetworkProfileCheck"))
def enable_psremoting(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    svc = sess.machine.service("WinRM")
    if svc is not None:
        svc.start_type = "Automatic"
        sess.machine.set_service_status(svc, "Running")
    return []


# Cmdlets for WinRM listeners and firewall lookups live beside these; importing registers them.
from standin import pswsman  # noqa: E402
