"""Temporary resource names and the admin password, as Packer makes them, from a seed.

With a seeded run (recording or replay) the same test produces the same names, so a
replayed build sends exactly the requests that were recorded.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import string
from dataclasses import dataclass

_ALPHABET = string.ascii_lowercase + string.digits


def _rng(seed: str, purpose: str) -> random.Random | secrets.SystemRandom:
    if not seed:
        return secrets.SystemRandom()
    digest = hashlib.sha256(f"{seed}/{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def random_password(seed: str, purpose: str, length: int = 32) -> str:
    """Upper, lower and digits (Azure wants three classes); no characters URLs must escape."""
    rng = _rng(seed, purpose)
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits]
    chars = [rng.choice(pool) for pool in pools]
    chars += [rng.choice("".join(pools)) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


@dataclass(frozen=True)
class TempNames:
    suffix: str

    @classmethod
    def create(cls, seed: str, build_name: str) -> TempNames:
        rng = _rng(seed, f"names/{build_name}")
        return cls("".join(rng.choice(_ALPHABET) for _ in range(10)))

    @property
    def resource_group(self) -> str:
        return f"packer-Resource-Group-{self.suffix}"

    @property
    def compute(self) -> str:
        return f"pkrvm{self.suffix}"

    @property
    def os_disk(self) -> str:
        return f"pkros{self.suffix}"

    @property
    def nic(self) -> str:
        return f"pkrni{self.suffix}"

    @property
    def public_ip(self) -> str:
        return f"pkrip{self.suffix}"

    @property
    def vnet(self) -> str:
        return f"pkrvn{self.suffix}"

    @property
    def subnet(self) -> str:
        return f"pkrsn{self.suffix}"

    @property
    def nsg(self) -> str:
        return f"pkrsg{self.suffix}"
