"""ML_DSA_44/65/87 keys: ML-DSA (FIPS 204) signatures with an empty context, of a RAW message or
of an external representative mu (``MessageType=EXTERNAL_MU``, FIPS 204 §6.2).

``cryptography`` signs whole messages only, so EXTERNAL_MU uses the pure-Python ``dilithium-py``
package with the key derived from the same 32-byte seed: signing is FIPS 204 Algorithm 7 with mu
given, verification Algorithm 8 with mu given (written here on dilithium-py's internals). Without
``dilithium-py`` installed, EXTERNAL_MU raises ``ExternalMuUnavailable`` instead of answering
wrongly.
"""
from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa

from ..errors import ExternalMuUnavailable
from .native import Native

KEYS: dict[str, type[mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey]]
KEYS = {"ML_DSA_44": mldsa.MLDSA44PrivateKey, "ML_DSA_65": mldsa.MLDSA65PrivateKey,
        "ML_DSA_87": mldsa.MLDSA87PrivateKey}
EXTERNAL_MU = "EXTERNAL_MU"


def _dilithium(spec: str):
    try:
        from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
    except ImportError:
        raise ExternalMuUnavailable(
            "ML-DSA signing with MessageType EXTERNAL_MU needs the dilithium-py package") \
            from None
    return {"ML_DSA_44": ML_DSA_44, "ML_DSA_65": ML_DSA_65, "ML_DSA_87": ML_DSA_87}[spec]


def sign_mu(spec: str, seed: bytes, mu: bytes) -> bytes:
    """Hedged ML-DSA signature of the 64-byte representative ``mu`` with the key from ``seed``."""
    scheme = _dilithium(spec)
    _, secret = scheme.key_derive(seed)
    return scheme.sign_external_mu(secret, mu)


def verify_mu(spec: str, public: bytes, mu: bytes, signature: bytes) -> bool:
    """ML-DSA.Verify_internal (FIPS 204 Algorithm 8) with the representative mu given."""
    s = _dilithium(spec)
    rho, t1 = s._unpack_pk(public)
    try:
        c_tilde, z, hint = s._unpack_sig(signature)
    except ValueError:
        return False
    if hint.sum_hint() > s.omega or z.check_norm_bound(s.gamma_1 - s.beta):
        return False
    a_hat = s._expand_matrix_from_seed(rho)
    c = s.R.sample_in_ball(c_tilde, s.tau).to_ntt()
    w_approx = ((a_hat @ z.to_ntt()) - t1.scale(1 << s.d).to_ntt().scale(c)).from_ntt()
    w1 = hint.use_hint(w_approx, 2 * s.gamma_2).bit_pack_w(s.gamma_2)
    return c_tilde == s._h(mu + w1, s.c_tilde_bytes)


class MlDsa(Native):
    __slots__ = ("key_class",)

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        self.key_class = KEYS[spec]

    def generate(self):
        return self.key_class.generate()

    def matches(self, private) -> bool:
        return isinstance(private, self.key_class)

    def sign(self, material, algorithm: str, message: bytes, message_type: str) -> bytes:
        if message_type == EXTERNAL_MU:
            return sign_mu(self.spec, material.private_bytes_raw(), message)
        return material.sign(message)

    def verify(self, material, algorithm: str, message: bytes, message_type: str,
               signature: bytes) -> bool:
        public = material.public_key()
        if message_type == EXTERNAL_MU:
            return verify_mu(self.spec, public.public_bytes_raw(), message, signature)
        try:
            public.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
