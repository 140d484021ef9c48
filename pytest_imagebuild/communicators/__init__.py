"""Communicators: how provisioners and smoke tests reach a guest, whoever booted it."""
