"""Packer's null builder: provision an existing machine over SSH or WinRM, make no image."""
