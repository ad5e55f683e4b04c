"""The national algorithms the certs engine signs with: SM2 signatures (GB/T 32918.2) over SM3
digests (GB/T 32905), and SM4 (GB/T 32907) to keep the seals' private keys encrypted at rest.

gmssl (pure Python) does the elliptic-curve arithmetic and SM4. Three of its weak spots are
covered here rather than trusted:

- its random numbers come from `random.choice` (not a cryptographic generator): every private
  key and every per-signature nonce k here comes from `secrets`;
- its `verify` does not check that r and s lie in [1, n-1], nor that the signature is
  well-formed hex: `signature_verify` does both before calling it;
- its SM3 is pure Python: the message digest e = SM3(Z || M) is computed with OpenSSL's SM3
  through hashlib when OpenSSL has it (gmssl's otherwise), then handed to gmssl's `sign`.

The signature is the standard SM3withSM2 with the default signer ID "1234567812345678", so
any GM/T 0009 implementation (gmssl's own `verify_with_sm3`, GmSSL, Bouncy Castle, OpenSSL 3
`-sm2-id`) verifies it with the seal's public key. gmssl's point multiplication is not
constant-time: the private keys must only be used on the platform's own servers.

Private keys at rest: SM4-CBC with a random IV, then HMAC-SM3 over IV and ciphertext
(encrypt-then-MAC), keys derived from the master key YIWANG_SEAL_KEY (settings or the
environment; derived from SECRET_KEY when empty, for development only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from django.conf import settings
from gmssl import sm2, sm4

CURVE = sm2.default_ecc_table
N = int(CURVE["n"], 16)
DEFAULT_SIGNER_ID = b"1234567812345678"
KEY_FORMAT = "sm4cbc-hmacsm3-v1"


class SealKeyError(Exception):
    """A private key cannot be decrypted: the master key (YIWANG_SEAL_KEY) changed or the
    stored ciphertext was altered."""


# --- SM3 --------------------------------------------------------------------------------------


def _sm3_openssl_available() -> bool:
    try:
        hashlib.new("sm3")
    except ValueError:
        return False
    return True


if _sm3_openssl_available():

    def sm3(data: bytes) -> bytes:
        return hashlib.new("sm3", data).digest()

    def _sm3_new(data: bytes = b""):
        return hashlib.new("sm3", data)

else:  # pragma: no cover - OpenSSL without SM3
    from gmssl import func as _func
    from gmssl import sm3 as _gm_sm3

    def sm3(data: bytes) -> bytes:
        return bytes.fromhex(_gm_sm3.sm3_hash(_func.bytes_to_list(data)))

    class _GmsslSm3:
        digest_size = 32
        block_size = 64

        def __init__(self, data: bytes = b""):
            self._data = bytearray(data)

        def update(self, data: bytes) -> None:
            self._data.extend(data)

        def copy(self):
            return _GmsslSm3(bytes(self._data))

        def digest(self) -> bytes:
            return sm3(bytes(self._data))

    def _sm3_new(data: bytes = b""):
        return _GmsslSm3(data)


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, _sm3_new).digest()


# --- SM2 --------------------------------------------------------------------------------------


def key_pair_generate() -> tuple[str, str]:
    """A new SM2 key pair: (private key as 64 hex digits, public key as 128 hex digits x||y)."""
    d = secrets.randbelow(N - 2) + 1  # d in [1, n-2] (GB/T 32918.1: d + 1 must be invertible)
    private_key = f"{d:064x}"
    public_key = sm2.CryptSM2(private_key=private_key, public_key="")._kg(d, CURVE["g"])
    return private_key, public_key


def public_key_valid(public_key: str) -> bool:
    """128 hex digits (x||y) of a point on the SM2 curve."""
    if len(public_key) != 128:
        return False
    try:
        x, y = int(public_key[:64], 16), int(public_key[64:], 16)
    except ValueError:
        return False
    p, a, b = int(CURVE["p"], 16), int(CURVE["a"], 16), int(CURVE["b"], 16)
    return 0 < x < p and 0 < y < p and (y * y - (x * x * x + a * x + b)) % p == 0


def key_fingerprint(public_key: str) -> str:
    """The seal's short, public identifier: the first 16 hex digits of SM3(public key)."""
    return sm3_hex(bytes.fromhex(public_key))[:16]


def _message_digest(public_key: str, message: bytes) -> bytes:
    """e = SM3(Z_A || M), Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A)."""
    entl = (len(DEFAULT_SIGNER_ID) * 8).to_bytes(2, "big")
    z = sm3(
        entl
        + DEFAULT_SIGNER_ID
        + bytes.fromhex(CURVE["a"] + CURVE["b"] + CURVE["g"])
        + bytes.fromhex(public_key)
    )
    return sm3(z + message)


def _sm2(*, private_key: str, public_key: str) -> sm2.CryptSM2:
    engine = sm2.CryptSM2(private_key=private_key, public_key="")
    engine.public_key = public_key  # not through the constructor: see the module's docstring
    return engine


def signature_create(*, private_key: str, public_key: str, message: bytes) -> str:
    """SM3withSM2 signature of `message`: r||s as 128 hex digits."""
    signer = _sm2(private_key=private_key, public_key=public_key)
    e = _message_digest(public_key, message)
    while True:
        k = secrets.randbelow(N - 1) + 1
        signature = signer.sign(e, f"{k:064x}")
        if signature:  # None when r = 0, r + k = n or s = 0: draw another k
            return signature


def signature_verify(*, public_key: str, message: bytes, signature: str) -> bool:
    """Does `signature` (r||s, 128 hex digits) sign `message` under `public_key`?"""
    if not isinstance(signature, str) or len(signature) != 128:
        return False
    try:
        r, s = int(signature[:64], 16), int(signature[64:], 16)
    except ValueError:
        return False
    if not (0 < r < N and 0 < s < N) or not public_key_valid(public_key):
        return False
    verifier = _sm2(private_key="", public_key=public_key)
    return bool(verifier.verify(f"{r:064x}{s:064x}", _message_digest(public_key, message)))


# --- private keys at rest ---------------------------------------------------------------------


def _master_key() -> bytes:
    configured = getattr(settings, "YIWANG_SEAL_KEY", "") or os.environ.get("YIWANG_SEAL_KEY", "")
    return (configured or ("seal:" + settings.SECRET_KEY)).encode()


def _derived_keys() -> tuple[bytes, bytes]:
    master = _master_key()
    return hmac_sm3(master, b"yiwang certs sm4")[:16], hmac_sm3(master, b"yiwang certs mac")


def private_key_encrypt(private_key: str) -> str:
    """SM4-CBC(random IV) then HMAC-SM3(IV || ciphertext), as one base64 text."""
    encryption_key, mac_key = _derived_keys()
    iv = secrets.token_bytes(16)
    cipher = sm4.CryptSM4()
    cipher.set_key(encryption_key, sm4.SM4_ENCRYPT)
    ciphertext = cipher.crypt_cbc(iv, bytes.fromhex(private_key))
    tag = hmac_sm3(mac_key, iv + ciphertext)
    return f"{KEY_FORMAT}:" + base64.b64encode(iv + ciphertext + tag).decode()


def private_key_decrypt(stored: str) -> str:
    prefix, _, body = stored.partition(":")
    if prefix != KEY_FORMAT:
        raise SealKeyError(f"unknown key format {prefix!r}")
    raw = base64.b64decode(body)
    iv, ciphertext, tag = raw[:16], raw[16:-32], raw[-32:]
    encryption_key, mac_key = _derived_keys()
    if not hmac.compare_digest(tag, hmac_sm3(mac_key, iv + ciphertext)):
        raise SealKeyError("the seal's private key does not match the master key YIWANG_SEAL_KEY")
    cipher = sm4.CryptSM4()
    cipher.set_key(encryption_key, sm4.SM4_DECRYPT)
    return bytes(cipher.crypt_cbc(iv, ciphertext)).hex()
