"""Provisioners: what runs inside the machine being built (shell, file, powershell, ...), one
module per type, through whichever communicator the builder connected. Imports no provider."""
