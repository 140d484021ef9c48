"""Reusing images and VMs across runs (--image-reuse, --image-force, --image-keep).

``settings`` reads the options, ``cache`` keeps built local images by content key with a size
limit, ``registry`` remembers what was kept on purpose (images, VMs), ``flow`` is what the
store does around a build. Providers plug in through ``BuilderType.reuse``.
"""
