#!/bin/sh
# Runs on the machine running the build after an artifact exists.
echo "built ${PACKER_BUILD_NAME:-unknown} (${PACKER_BUILDER_TYPE:-unknown})"
