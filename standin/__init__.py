"""A loopback stand-in for Azure Resource Manager, Entra ID and the Windows VMs it makes.

Tests of the `azure-arm` builder cannot reach Azure, so they start this instead: real HTTPS on
127.0.0.1 that behaves as the real ARM traffic recorded by the Azure SDK's and CLI's own
tests does (reference copies live beside this repository, in ``../shared/azure-traffic``;
only ``tests/test_azure_standin.py`` reads them, to check the stand-in), and, for each
running Windows VM, a fake host on its public IP (a 127.0.0.N address) speaking WS-Management
over HTTPS and HTTP like a Windows Server with IIS. Use::

    with start_standin(fast=True) as azure:
        credential = ClientSecretCredential(**azure.credential_kwargs())
        client = ResourceManagementClient(credential, azure.subscription_id,
                                          **azure.client_kwargs())
"""

from standin.faults import FaultRule, Faults
from standin.log import LogEntry, RequestLog
from standin.settings import Settings
from standin.standin import Standin, StateView, start_standin

__all__ = [
    "FaultRule",
    "Faults",
    "LogEntry",
    "RequestLog",
    "Settings",
    "Standin",
    "StateView",
    "start_standin",
]
