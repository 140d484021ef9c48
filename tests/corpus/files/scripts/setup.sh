#!/bin/sh
# Base packages and an updated system for image builds.
set -eu
export DEBIAN_FRONTEND=noninteractive
sudo apt-get update
sudo apt-get -y upgrade
sudo apt-get -y install curl ca-certificates qemu-guest-agent
