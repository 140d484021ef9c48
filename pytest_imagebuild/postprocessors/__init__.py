"""Post-processors: what happens to an artifact after its build (manifest, checksum, ...)."""
