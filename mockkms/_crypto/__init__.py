"""Real cryptography for KMS keys: the symmetric ciphertext format here, key specs in siblings.

Imports of ``cryptography`` happen in these modules only, and these modules are imported on the
first request, never by ``import mockkms``.
"""
