"""Launchers: boot a VM from a built image and describe how tests reach it."""
