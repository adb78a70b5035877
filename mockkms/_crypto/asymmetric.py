"""The holder of an asymmetric key pair (KMS keys and data key pairs): ``KeyPair``, stored in
``Key.asym``. What the key can do is its family's (``families``); the holder owns when the
private key is made, how copies share it, and how it is persisted.

Lazy material. Generating an RSA 4096 key costs about half a second, RSA 3072 about 0.2 s, so
CreateKey does not generate anything: the private key is made on first use (GetPublicKey, Sign,
Encrypt, Decrypt, DeriveSharedSecret...). Every key still gets its own real, distinct
material. The private key lives in a small shared cell: copies of the holder (``copy.deepcopy``
by ``Backend.snapshot``/``restore``, multi-Region replicas) share that cell, so a key generated
after a snapshot was taken is the same key in the snapshot, and a replica made before first use
has the same material as its primary. Once generated, material never changes.

Generated outside every lock. While a request runs under the backend lock, the dispatcher
switches ``deferring(True)`` on: a first use then raises :class:`NotGenerated` instead of
generating (the handlers use key material only after their checks, before they change
anything); the dispatcher generates the key without any lock held and runs the request again,
which ``publish``es it under the lock — unless another request published one meanwhile, which then
wins: two racing first uses end with one key pair. Outside requests (seeding, tests) a first use
generates at once, and also publishes with a compare-and-set, never replacing a published key.

No pre-generated pool. A background thread filling a process-wide pool of RSA keys would only
save time when a test creates an RSA key *and* uses it, and it would do so by burning CPU that
the test process itself (and, under xdist, its siblings on a two-core CI machine) wants; it
also leaves a thread running inside the user's test process. Lazy generation already makes the
common case (CreateKey, DescribeKey, ListKeys, alias/tag/policy tests) free, so the pool was left
out on purpose. ``benchmarks/bench_keys.py`` measures the costs.

Persistence: a state directory's database keeps the key spec and the PKCS #8 DER of a generated
key (``_schema``); ``to_dict``/``from_dict`` are what JSON state files of mockkms 0.1 held
(``{"spec", "pkcs8"}``, base64), for their migration.
"""
from __future__ import annotations

import base64
import threading
from typing import Any

from .errors import UnsupportedAlgorithm
from .families import Family, family

_PUBLISH_LOCK = threading.Lock()
_DEFERRING = threading.local()


class NotGenerated(Exception):
    """A key pair's first use while generation is deferred (``deferring``)."""

    def __init__(self, pair: KeyPair):
        super().__init__(pair.spec)
        self.pair = pair


def deferring(on: bool) -> None:
    """From now on in this thread, a first use raises :class:`NotGenerated` (``on``), or
    generates at once (the default)."""
    _DEFERRING.on = on


class _Cell:
    """Where a holder's private key lives once generated; shared by all copies of the holder.
    A key read back from storage stays PKCS #8 DER (``der``) until it is first used."""

    __slots__ = ("private", "der")

    def __init__(self, private: Any = None, der: bytes | None = None):
        self.private = private
        self.der = der


class KeyPair:
    """The asymmetric key pair of one KMS key (or one data key pair), generated on first use.

    Never shows material in ``repr``; deep copies share the (immutable) key; ``to_dict`` /
    ``from_dict`` round-trip spec + PKCS#8 DER for persistence.
    """

    __slots__ = ("spec", "family", "_cell", "_public")

    def __init__(self, spec: str, private: Any = None):
        fam = family(spec)
        if not fam.asymmetric:
            raise UnsupportedAlgorithm(f"not an asymmetric key spec: {spec}")
        self.spec = spec
        self.family: Family = fam
        self._cell = _Cell(private)
        self._public: bytes | None = None

    # --- material ---------------------------------------------------------------------------
    @property
    def generated(self) -> bool:
        cell = self._cell
        return cell.private is not None or cell.der is not None

    @property
    def private_key(self) -> Any:
        """The private key object (generated now if this is its first use)."""
        cell = self._cell
        if cell.private is None:
            if cell.der is not None:
                cell.private = self.family.load(cell.der)
            else:
                if getattr(_DEFERRING, "on", False):
                    raise NotGenerated(self)
                self.publish(self.family.generate())
        return cell.private

    def publish(self, private: Any) -> bool:
        """Make ``private`` (generated outside any lock) this pair's key, unless it has one
        already; whether it did."""
        cell = self._cell
        with _PUBLISH_LOCK:
            if cell.private is not None or cell.der is not None:
                return False
            cell.private = private
            return True

    def public_der(self) -> bytes:
        """The public key, DER-encoded SubjectPublicKeyInfo (what GetPublicKey returns)."""
        if self._public is None:
            self._public = self.family.public_der(self.private_key)
        return self._public

    def private_pkcs8_der(self) -> bytes:
        der = self._cell.der
        return der if der is not None else self.family.dump(self.private_key)

    @classmethod
    def stored(cls, spec: str, der: bytes | None) -> KeyPair:
        """A holder for a key kept in storage as PKCS #8 DER (parsed on first use; None: not
        generated yet)."""
        pair = cls(spec)
        pair._cell.der = der
        return pair

    def keep_stored(self, der: bytes) -> None:
        """Hold ``der`` (a key read back from storage) unless this holder has a key already."""
        with _PUBLISH_LOCK:
            cell = self._cell
            if cell.private is None and cell.der is None:
                cell.der = der

    # --- persistence and copies ---------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"spec": self.spec,
                "pkcs8": base64.b64encode(self.private_pkcs8_der()).decode("ascii")}

    @classmethod
    def from_dict(cls, data: dict) -> KeyPair:
        return cls.from_pkcs8(data["spec"], base64.b64decode(data["pkcs8"]))

    @classmethod
    def from_pkcs8(cls, spec: str, der: bytes) -> KeyPair:
        """A holder for existing material (persistence, imported key material);
        ``BadKeyMaterial`` unless ``der`` is a PKCS #8 private key of ``spec``."""
        return cls(spec, family(spec).load(der))

    def __deepcopy__(self, memo) -> KeyPair:
        clone = KeyPair.__new__(KeyPair)
        clone.spec, clone.family = self.spec, self.family
        clone._cell = self._cell  # shared: the key is immutable once generated
        clone._public = self._public
        return clone

    def __copy__(self) -> KeyPair:
        return self.__deepcopy__({})

    def __getstate__(self):
        return self.to_dict()

    def __setstate__(self, state) -> None:
        other = KeyPair.from_dict(state)
        self.spec, self.family, self._cell, self._public = (other.spec, other.family,
                                                            other._cell, None)

    def __repr__(self) -> str:
        return f"KeyPair({self.spec}, {'generated' if self.generated else 'not generated yet'})"

    # --- what the key does (its family's cryptography, with this key) ---------------------------
    def sign(self, algorithm: str, message: bytes, message_type: str) -> bytes:
        """Signature of ``message`` (RAW message, DIGEST, or ML-DSA EXTERNAL_MU)."""
        return self.family.sign(self.private_key, algorithm, message, message_type)

    def verify(self, algorithm: str, message: bytes, message_type: str,
               signature: bytes) -> bool:
        """Whether ``signature`` is a valid signature of ``message`` by this key."""
        return self.family.verify(self.private_key, algorithm, message, message_type, signature)

    def encrypt(self, algorithm: str, plaintext: bytes) -> bytes:
        """RSAES-OAEP (raw, modulus-sized) or SM2PKE ciphertext of ``plaintext``."""
        return self.family.encrypt(self.private_key, algorithm, plaintext)

    def decrypt(self, algorithm: str, ciphertext: bytes) -> bytes:
        """Plaintext of ``ciphertext``; ``BadCiphertext`` when it does not decrypt."""
        return self.family.decrypt(self.private_key, algorithm, ciphertext)

    def derive_shared_secret(self, peer_public_der: bytes) -> bytes:
        """Raw ECDH output with the peer's DER SubjectPublicKeyInfo; ``BadPublicKey`` when that
        is not a public key on this key's curve."""
        return self.family.derive_shared_secret(self.private_key, peer_public_der)

    def encapsulate(self) -> tuple[bytes, bytes]:
        """(ciphertext, shared secret) encapsulated to this key's public key (ML-KEM)."""
        return self.family.encapsulate(self.public_der())

    def decapsulate(self, ciphertext: bytes) -> bytes:
        """ML-KEM shared secret of ``ciphertext``; ``BadCiphertext`` for a wrong length."""
        return self.family.decapsulate(self.private_key, ciphertext)


def new_material(spec: str) -> KeyPair:
    """The holder for a new AWS_KMS key of ``spec``; the key itself is made on first use."""
    return KeyPair(spec)


def generate_pair(spec: str) -> tuple[bytes, bytes]:
    """(PKCS#8 DER private key, DER SubjectPublicKeyInfo) of a fresh key pair (data key pairs)."""
    pair = KeyPair(spec, family(spec).generate())
    return pair.private_pkcs8_der(), pair.public_der()
