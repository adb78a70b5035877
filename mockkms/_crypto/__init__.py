"""Real cryptography for KMS keys. Nothing here knows the service's rules or errors.

    families/       one class per family of key specs behind one interface (``base.Family``),
                    chosen by key spec from the registry ``families.family(spec)``:
                    symmetric, hmac, rsa, ecc (NIST/SECG), ed25519, mldsa, sm2, mlkem;
                    ``native`` is what the families on ``cryptography`` key objects share
    asymmetric.py   ``KeyPair``: the lazily generated key pair of a KMS key (``Key.asym``) or
                    data key pair, shared by copies, persisted as spec + PKCS #8
    symmetric.py    the symmetric ciphertext blob: AES-256-GCM, self-identifying, context-bound
    recipient.py    Nitro Enclaves attestation documents and the CMS envelope for them
    wrapping.py     importing key material: wrapping key pair, sealed import token, unwrapping
    pure/           algorithms implemented here in pure Python, each with known-answer tests in
                    tests/crypto/: der, cbor, ed25519ph, sm2, mlkem
    errors.py       what this package raises (``BadCiphertext``, ``BadKeyMaterial``,
                    ``BadPublicKey``, ``BadAttestation``, ``UnsupportedAlgorithm``); the handlers
                    in ``operations`` translate them into AWS's errors

``_crypto`` never imports ``_errors`` or anything above it. Imports of ``cryptography`` happen in
these modules only, and these modules are imported on the first request that needs them, never
by ``import mockkms``.
"""
