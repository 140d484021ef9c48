"""An NTLMv2 acceptor for the fake host's local administrator account.

pyspnego's own acceptor reads its accounts from the process-wide `NTLM_USER_FILE` variable, which
two stand-ins (or two VMs) in one process could not share. This one uses pyspnego's message and
crypto primitives with the VM's own account: it issues the CHALLENGE, checks the NTProofStr of
the AUTHENTICATE message, the TLS channel binding when the client sends one (WinRM's
`CbtHardeningLevel=Relaxed`), and the MIC.
"""

from __future__ import annotations

import hmac
import os

from spnego._ntlm_raw.crypto import hmac_md5, md5, ntowfv1, ntowfv2, rc4k
from spnego._ntlm_raw.messages import (
    Authenticate,
    AvFlags,
    AvId,
    Challenge,
    FileTime,
    Negotiate,
    NegotiateFlags,
    NTClientChallengeV2,
    TargetInfo,
    Version,
)
from spnego.channel_bindings import GssChannelBindings

NTLMSSP = b"NTLMSSP\x00"


class NtlmError(Exception):
    pass


def message_type(token: bytes) -> int:
    if not token.startswith(NTLMSSP) or len(token) < 12:
        return 0
    return int.from_bytes(token[8:12], "little")


class NtlmAcceptor:
    """One connection's NTLM handshake."""

    def __init__(self, computer_name: str, cert_hash: bytes | None) -> None:
        self.computer_name = computer_name.upper()[:15]
        self.bindings = (
            None
            if cert_hash is None
            else GssChannelBindings(application_data=b"tls-server-end-point:" + cert_hash)
        )
        self._negotiate: bytes | None = None
        self._challenge: Challenge | None = None
        self.user: str | None = None

    def challenge(self, token: bytes) -> bytes:
        negotiate = Negotiate.unpack(token)
        flags = (
            negotiate.flags
            | NegotiateFlags.request_target
            | NegotiateFlags.ntlm
            | NegotiateFlags.always_sign
            | NegotiateFlags.target_info
            | NegotiateFlags.target_type_server
        )
        if flags & NegotiateFlags.unicode:
            flags &= ~NegotiateFlags.oem
        if flags & NegotiateFlags.extended_session_security:
            flags &= ~NegotiateFlags.lm_key
        info = TargetInfo()
        info[AvId.nb_domain_name] = self.computer_name
        info[AvId.nb_computer_name] = self.computer_name
        info[AvId.dns_domain_name] = self.computer_name.lower()
        info[AvId.dns_computer_name] = self.computer_name.lower()
        info[AvId.timestamp] = FileTime.now()
        kwargs = {"version": Version.get_current()} if flags & NegotiateFlags.version else {}
        self._challenge = Challenge(
            flags, os.urandom(8), target_name=self.computer_name, target_info=info, **kwargs
        )
        self._negotiate = token
        return self._challenge.pack()

    def authenticate(self, token: bytes, accounts: dict[str, str]) -> str:
        """Check the AUTHENTICATE message against `accounts` (lower user -> password)."""
        if self._challenge is None or self._negotiate is None:
            raise NtlmError("AUTHENTICATE before CHALLENGE")
        auth = Authenticate.unpack(token)
        user = auth.user_name or ""
        password = accounts.get(user.lower())
        nt_response = auth.nt_challenge_response or b""
        if password is None or len(nt_response) <= 24:
            raise NtlmError("unknown user or not NTLMv2")
        key = ntowfv2(user, ntowfv1(password), auth.domain_name)
        proof, blob = nt_response[:16], nt_response[16:]
        expected = hmac_md5(key, self._challenge.server_challenge + blob)
        if not hmac.compare_digest(proof, expected):
            raise NtlmError("wrong password")
        info = NTClientChallengeV2.unpack(blob).av_pairs
        if self.bindings is not None and AvId.channel_bindings in info:
            sent = info[AvId.channel_bindings]
            if sent != b"\x00" * 16 and sent != md5(self.bindings.pack()):
                raise NtlmError("channel binding mismatch")
        session_base_key = hmac_md5(key, proof)
        if auth.flags & NegotiateFlags.key_exch and auth.encrypted_random_session_key:
            session_key = rc4k(session_base_key, auth.encrypted_random_session_key)
        else:
            session_key = session_base_key
        if info.get(AvId.flags, 0) & AvFlags.mic and auth.mic:
            sent_mic = auth.mic
            auth.mic = b"\x00" * 16
            mic = hmac_md5(session_key, self._negotiate + self._challenge.pack() + auth.pack())
            if not hmac.compare_digest(mic, sent_mic):
                raise NtlmError("bad MIC")
        self.user = user
        return user
