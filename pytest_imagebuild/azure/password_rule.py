"""The admin password rule of the azure-arm builder, as Packer 1.6.6 applies it.

Packer hands the VM one admin password. Unless the communicator is explicitly "ssh", it
treats that password as the WinRM one and holds it to Azure's complexity rule, even on a
Linux image whose template only sets ``ssh_password`` and leaves ``communicator`` unset: a
common real-world template shape that Packer refuses.  The password is winrm_password, else
ssh_password, else one Packer generates (always valid).  The value is never repeated in the
message: it is a secret.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

from ..template.jsonsource import JsonPath

Report = Callable[[JsonPath, str], None]

# Packer's character classes; its special characters are ASCII punctuation and the space.
_CLASSES = (
    frozenset(string.digits),
    frozenset(string.ascii_lowercase),
    frozenset(string.ascii_uppercase),
    frozenset(" " + string.punctuation),
)


def acceptable(password: str) -> bool:
    """8 to 123 bytes (UTF-8, as Go counts) and at least 3 of the 4 character classes."""
    if not 8 <= len(password.encode("utf-8")) <= 123:
        return False
    return sum(1 for chars in _CLASSES if chars.intersection(password)) >= 3


def check_admin_password(config: dict[str, Any], path: JsonPath, report: Report) -> None:
    if str(config.get("communicator") or "") == "ssh":
        return
    key = next((k for k in ("winrm_password", "ssh_password") if config.get(k)), None)
    if key is None:
        return
    password = config[key]
    if not isinstance(password, str) or acceptable(password):
        return
    via = "" if key == "winrm_password" else (
        ' (ssh_password is used as the WinRM password because communicator is not "ssh";'
        ' set "communicator": "ssh" on a Linux image)'
    )
    report(
        (*path, key),
        'The supplied "winrm_password" must be between 8-123 characters long and must '
        "satisfy at least 3 from the following: 1) Contains an uppercase character "
        "2) Contains a lowercase character 3) Contains a numeric digit 4) Contains a special "
        f"character 5) Control characters are not allowed{via}",
    )
