"""Guaranteed teardown: a run journal written before anything is created, signal handling so
cleanups run on SIGTERM, and a janitor that removes what killed runs left behind."""
