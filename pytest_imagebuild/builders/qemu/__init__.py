"""The qemu builder: base images, NoCloud seeds and running VMs under QEMU."""
