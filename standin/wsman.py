"""WS-Management SOAP as a Windows host speaks it: requests parsed, responses and faults built.

Envelopes, namespaces, action URIs, fault codes (2150858793 OperationTimeout, 2150858843 for an
unknown shell or command) and texts are those of real WinRM
captures (``../shared/winrm-traffic``, beside the repository).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
}
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_URI = f"{SHELL}/cmd"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
DONE = f"{SHELL}/CommandState/Done"
RUNNING = f"{SHELL}/CommandState/Running"


class BadRequest(Exception):
    """The request is not a SOAP envelope the service understands."""


@dataclass
class Request:
    action: str
    resource_uri: str
    message_id: str
    shell_id: str | None
    operation_timeout: float
    body: ET.Element | None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def verb(self) -> str:
        return self.action.rsplit("/", 1)[-1]


def _duration(text: str | None) -> float:
    """xs:duration like PT20S or PT60.000S to seconds."""
    if not text or not text.startswith("PT"):
        return 60.0
    value, total = text[2:], 0.0
    for unit, scale in (("H", 3600), ("M", 60), ("S", 1)):
        if unit in value:
            num, value = value.split(unit, 1)
            total += float(num) * scale
    return total


def parse(data: bytes) -> Request:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise BadRequest(str(exc)) from exc
    header = root.find("s:Header", NS)
    body = root.find("s:Body", NS)
    if header is None or body is None:
        raise BadRequest("no SOAP header or body")

    def text(path: str) -> str:
        node = header.find(path, NS)
        return (node.text or "").strip() if node is not None else ""

    shell = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
    options = {
        o.get("Name", ""): (o.text or "") for o in header.findall("w:OptionSet/w:Option", NS)
    }
    return Request(
        action=text("a:Action"),
        resource_uri=text("w:ResourceURI"),
        message_id=text("a:MessageID"),
        shell_id=(shell.text or "").strip() if shell is not None else None,
        operation_timeout=_duration(text("w:OperationTimeout")),
        body=body[0] if len(body) else None,
        options=options,
    )


def envelope(action: str, relates_to: str, body: str, extra_ns: str = "") -> bytes:
    return (
        '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
        'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
        'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" '
        f'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"{extra_ns}>'
        f"<s:Header><a:Action>{action}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<p:ActivityId>{str(uuid.uuid4()).upper()}</p:ActivityId>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def created(req: Request, address: str, shell_id: str, owner: str, client_ip: str) -> bytes:
    body = (
        f"<x:ResourceCreated><a:Address>{escape(address)}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{CMD_URI}</w:ResourceURI><w:SelectorSet>"
        f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
        "</a:ReferenceParameters></x:ResourceCreated>"
        f'<rsp:Shell xmlns:rsp="{SHELL}"><rsp:ShellId>{shell_id}</rsp:ShellId>'
        f"<rsp:ResourceUri>{CMD_URI}</rsp:ResourceUri><rsp:Owner>{escape(owner)}</rsp:Owner>"
        f"<rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S"
        "</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout "
        "stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>"
        "<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>"
    )
    return envelope(f"{TRANSFER}/CreateResponse", req.message_id, body)


def command_response(req: Request, command_id: str) -> bytes:
    body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
    return envelope(f"{SHELL}/CommandResponse", req.message_id, body)


def receive_response(
    req: Request, command_id: str, chunks: list[tuple[str, str]], done: bool, exit_code: int
) -> bytes:
    parts = [
        f'<rsp:Stream Name="{name}" CommandId="{command_id}">{data}</rsp:Stream>'
        for name, data in chunks
    ]
    if done:
        parts += [
            f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>',
            f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"></rsp:Stream>',
            f'<rsp:CommandState CommandId="{command_id}" State="{DONE}">'
            f"<rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState>",
        ]
    else:
        parts.append(
            f'<rsp:CommandState CommandId="{command_id}" State="{RUNNING}"></rsp:CommandState>'
        )
    body = "<rsp:ReceiveResponse>" + "".join(parts) + "</rsp:ReceiveResponse>"
    return envelope(f"{SHELL}/ReceiveResponse", req.message_id, body)


def simple(req: Request, verb: str) -> bytes:
    if verb == "Signal":
        return envelope(f"{SHELL}/SignalResponse", req.message_id, "<rsp:SignalResponse/>")
    if verb == "Send":
        return envelope(f"{SHELL}/SendResponse", req.message_id, "<rsp:SendResponse/>")
    return envelope(f"{TRANSFER}/DeleteResponse", req.message_id, "")


def fault(
    req_message_id: str,
    machine: str,
    code: str,
    subcode: str,
    reason: str,
    wsman_code: int,
    message: str,
    detail: str | None = None,
) -> bytes:
    detail_xml = f"<w:FaultDetail>{detail}</w:FaultDetail>" if detail else ""
    body = (
        f"<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value>"
        f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{escape(reason)}</s:Text>'
        f"</s:Reason><s:Detail>{detail_xml}"
        '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f"Code={quoteattr(str(wsman_code))} Machine={quoteattr(machine)}>"
        f"<f:Message>{escape(message)}</f:Message></f:WSManFault></s:Detail></s:Fault>"
    )
    return envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", req_message_id, body)


OPERATION_TIMEOUT_TEXT = (
    "The WS-Management service cannot complete the operation within the time specified in "
    "OperationTimeout.  "
)


def timed_out(req: Request, machine: str) -> bytes:
    return fault(
        req.message_id,
        machine,
        "s:Receiver",
        "w:TimedOut",
        OPERATION_TIMEOUT_TEXT,
        2150858793,
        OPERATION_TIMEOUT_TEXT,
    )


def unknown_shell(req: Request, machine: str) -> bytes:
    return fault(
        req.message_id,
        machine,
        "s:Sender",
        "w:InvalidSelectors",
        "The WS-Management service cannot process the request because the request contained "
        "invalid selectors for the resource. ",
        2150858843,
        f"The request for the Windows Remote Shell with ShellId {req.shell_id} failed because "
        "the shell was not found on the server. Possible causes are: the specified ShellId is "
        "incorrect or the shell no longer exists on the server. Provide the correct ShellId or "
        "create a new shell and retry the operation. ",
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
    )


def unknown_command(req: Request, machine: str) -> bytes:
    return fault(
        req.message_id,
        machine,
        "s:Sender",
        "w:InvalidSelectors",
        "The WS-Management service cannot process the request because the request contained "
        "invalid selectors for the resource. ",
        2150858843,
        "The Windows Remote Shell received a request to perform an operation on a command "
        "identifier that does not exist. Either the command has completed execution or the "
        "client specified an invalid command identifier. ",
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
    )


def unsupported(req: Request, machine: str, what: str) -> bytes:
    return fault(
        req.message_id,
        machine,
        "s:Sender",
        "w:ActionNotSupported",
        "The action is not supported by the service. ",
        2150858753,
        f"The WS-Management service cannot process the request. The loopback stand-in does not "
        f"model {what}. ",
    )
