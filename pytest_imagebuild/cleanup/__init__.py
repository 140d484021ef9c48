"""Guaranteed teardown, whatever the provider: a run journal written before anything is created,
signal handling so cleanups run on SIGTERM, and a janitor that removes what killed runs left
behind. Local files and processes are handled here; each provider registers a cleaner (see
``cleaners.py``) for the kinds of resources it journals. Imports no provider."""
