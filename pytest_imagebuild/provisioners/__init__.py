"""Provisioners: what runs inside the machine being built (shell, file, powershell, ...)."""
