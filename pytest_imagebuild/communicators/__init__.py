"""Communicators: how provisioners and tests reach a machine (SSH with paramiko, WinRM with
pywinrm), one module per transport over a small base class; they know nothing of builders."""
