"""Algorithms mockkms implements itself, in pure Python, because ``cryptography`` lacks them.

* ``der``       — a minimal DER encoder/reader (key encodings, CMS)
* ``cbor``      — a CBOR decoder (RFC 8949; Nitro Enclaves attestation documents)
* ``ed25519ph`` — Ed25519ph (RFC 8032 §5.1, phflag 1, empty context)
* ``sm2``       — SM2 signatures, encryption and ECDH with SM3 (GM/T 0003, 0004, 0009)
* ``mlkem``     — ML-KEM (FIPS 203), used for ML-KEM-512

Each stands alone (standard library and ``der`` only, no ``cryptography``, no KMS rules) and
raises ``ValueError`` for malformed input; the key families in ``_crypto.families`` turn that into
``_crypto.errors``. Each has its known-answer tests in ``tests/crypto/test_pure_<name>.py``.
"""
