"""The WSMan: and Cert: drives as scripts that manage WinRM listeners see them, and
Get-NetFirewallRule.

A script that makes WinRM over HTTPS idempotently lists `WSMan:\\localhost\\Listener`, removes
an HTTPS listener with `Remove-Item -Recurse` and looks a firewall rule up before adding it;
these answer with Windows Server's objects and errors. Listener names are the ones Windows
gives the `Address=*` listeners (a hash of their keys).
"""

from __future__ import annotations

import ntpath
from typing import Any

from standin.powershell import Session, Terminating, as_list
from standin.pscmdlets import cmdlet, not_found
from standin.psformat import PSObject, scalar

LISTENER_NAMES = {"HTTP": "Listener_1084132640", "HTTPS": "Listener_1305953032"}
LISTENER_ROOT = "wsman:\\localhost\\listener"
WSMAN_PREFIX = "WSManConfig: Microsoft.WSMan.Management\\WSMan::localhost\\Listener"


def _wsman_key(path: str) -> str:
    low = path.replace("/", "\\").lower().rstrip("\\")
    if low.startswith("microsoft.wsman.management\\wsman::"):
        low = "wsman:\\" + low.split("::", 1)[1]
    return low


def _transport_named(sess: Session, name: str) -> str | None:
    for transport in sess.machine.listeners:
        if LISTENER_NAMES.get(transport, "").lower() == name.lower():
            return transport
    return None


def is_wsman(path: str) -> bool:
    return _wsman_key(path).startswith("wsman:")


def is_cert(path: str) -> bool:
    return path.lower().startswith("cert:")


def wsman_children(sess: Session, node: Any, path: str, action: str | None) -> list[Any]:
    """Get-ChildItem under WSMan:\\localhost\\Listener: the listeners, or one's settings."""
    key = _wsman_key(path)
    if key == LISTENER_ROOT:
        return [
            PSObject(
                "Microsoft.WSMan.Management.WSManConfigContainerElement",
                {
                    "Type": "Container",
                    "Keys": [f"Transport={transport}", f"Address={conf['Address']}"],
                    "Name": LISTENER_NAMES.get(transport, f"Listener_{transport}"),
                },
                columns=("Type", "Keys", "Name"),
                widths=(15, 34, 30),
                preamble=f"   {WSMAN_PREFIX}",
            )
            for transport, conf in sorted(sess.machine.listeners.items())
        ]
    if key.startswith(LISTENER_ROOT + "\\"):
        name = key[len(LISTENER_ROOT) + 1 :]
        transport = _transport_named(sess, name)
        if transport is not None and "\\" not in name:
            conf = sess.machine.listeners[transport]
            leaves = {
                "Address": conf["Address"],
                "Transport": transport,
                "Port": conf["Port"],
                "Hostname": conf.get("Hostname", ""),
                "Enabled": "true",
                "URLPrefix": "wsman",
                "CertificateThumbprint": conf.get("CertificateThumbprint", ""),
            }
            return [
                PSObject(
                    "Microsoft.WSMan.Management.WSManConfigLeafElement",
                    {"Type": "System.String", "Name": k, "SourceOfValue": "", "Value": v},
                    columns=("Type", "Name", "SourceOfValue", "Value"),
                    widths=(15, 30, 15, 30),
                    preamble=f"   {WSMAN_PREFIX}\\{LISTENER_NAMES[transport]}",
                )
                for k, v in leaves.items()
            ]
    not_found(sess, node, "Get-ChildItem", path, action)
    return []


def wsman_remove(
    sess: Session, node: Any, path: str, recurse: bool, action: str | None
) -> None:
    """Remove-Item of a listener; a listener has settings under it, so it needs -Recurse."""
    key = _wsman_key(path)
    name = key[len(LISTENER_ROOT) + 1 :] if key.startswith(LISTENER_ROOT + "\\") else ""
    transport = _transport_named(sess, name) if name and "\\" not in name else None
    if transport is None:
        not_found(sess, node, "Remove-Item", path, action)
        return
    if not recurse:
        raise Terminating(
            sess.record(
                f"The item at {path} has children and the Recurse parameter was not specified. "
                "If you continue, all children will be removed with the item. Are you sure you "
                "want to continue?",
                node,
                "NotSpecified: (:) [Remove-Item], PSInvalidOperationException",
                "System.Management.Automation.PSInvalidOperationException,"
                "Microsoft.PowerShell.Commands.RemoveItemCommand",
                invocation="Remove-Item",
            )
        )
    sess.machine.remove_listener(transport)


def cert_remove(sess: Session, node: Any, path: str, action: str | None) -> None:
    """Remove-Item Cert:\\LocalMachine\\My\\<thumbprint>."""
    thumb = ntpath.basename(path.rstrip("\\")).upper()
    with sess.machine.lock:
        found = sess.machine.certificates.pop(thumb, None)
    if found is None:
        not_found(sess, node, "Remove-Item", path, action)


@cmdlet("Get-NetFirewallRule", params=("Name", "DisplayName", "Direction", "Enabled"))
def get_firewall_rule(
    sess: Session, node: Any, args: dict[str, Any], action: str | None
) -> list[Any]:
    rules = list(sess.machine.firewall)
    for prop in ("Name", "DisplayName"):
        if prop not in args:
            continue
        wanted = [scalar(v) for v in as_list(args[prop])]
        field = "name" if prop == "Name" else "display_name"
        rules = [r for r in rules if getattr(r, field) in wanted]
        if not rules:
            value = wanted[0] if wanted else ""
            sess.report(
                sess.record(
                    f"No MSFT_NetFirewallRule objects found with property '{prop}' equal to "
                    f"'{value}'.  Verify the value of the property and retry.",
                    node,
                    f"ObjectNotFound: ({value}:String) [Get-NetFirewallRule], CimJobException",
                    f"CmdletizationQuery_NotFound_{prop},Get-NetFirewallRule",
                    invocation="Get-NetFirewallRule",
                ),
                action,
            )
            return []
    return [
        PSObject(
            "Microsoft.Management.Infrastructure.CimInstance#MSFT_NetFirewallRule",
            {
                "Name": r.name,
                "DisplayName": r.display_name,
                "Enabled": "True" if r.enabled else "False",
                "Direction": r.direction,
                "Action": r.action,
                "PrimaryStatus": "OK",
            },
            view="list",
        )
        for r in rules
    ]
