#!/bin/sh
# Shrink the image: drop caches, logs and machine identity.
set -eu
sudo apt-get -y autoremove --purge
sudo apt-get clean
sudo rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*
sudo truncate -s 0 /etc/machine-id
sudo cloud-init clean --logs || true
