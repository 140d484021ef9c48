"""Post-processors: what happens to an artifact after its build (manifest, checksum,
shell-local), one module per type. Imports no provider."""
