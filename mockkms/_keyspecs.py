"""What each KeySpec allows: key usages, and the algorithms DescribeKey/GetPublicKey list per usage.

Pure data (AWS CreateKey and key-spec documentation; ../shared/kms-facts.md §4.4, §6.1). The
primitives that implement the algorithms live in ``_crypto``.

Checked against the facts: SYMMETRIC_DEFAULT → ENCRYPT_DECRYPT; HMAC_* → GENERATE_VERIFY_MAC;
RSA_* → ENCRYPT_DECRYPT or SIGN_VERIFY; ECC_NIST_P256/P384/P521 → SIGN_VERIFY or KEY_AGREEMENT;
ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, ML_DSA_* → SIGN_VERIFY only; SM2 (China Regions only) →
ENCRYPT_DECRYPT, SIGN_VERIFY or KEY_AGREEMENT. The ML_KEM_* rows serve the key-encapsulation
area; botocore 1.43's KeySpec enum does not list them yet, so requests naming them are refused by
validation before they get here. The algorithm lists are in the order DescribeKey shows them.
"""
from __future__ import annotations

ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
SIGN_VERIFY = "SIGN_VERIFY"
GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
KEY_AGREEMENT = "KEY_AGREEMENT"
ENCAPSULATE_DECAPSULATE = "ENCAPSULATE_DECAPSULATE"

_RSA_ENC = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
_RSA_SIGN = ("RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
             "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512")

# KeySpec -> {KeyUsage: (metadata field, algorithms)}
SPECS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "SYMMETRIC_DEFAULT": {ENCRYPT_DECRYPT: ("EncryptionAlgorithms", ("SYMMETRIC_DEFAULT",))},
    **{f"RSA_{n}": {ENCRYPT_DECRYPT: ("EncryptionAlgorithms", _RSA_ENC),
                    SIGN_VERIFY: ("SigningAlgorithms", _RSA_SIGN)} for n in (2048, 3072, 4096)},
    "ECC_NIST_P256": {SIGN_VERIFY: ("SigningAlgorithms", ("ECDSA_SHA_256",)),
                      KEY_AGREEMENT: ("KeyAgreementAlgorithms", ("ECDH",))},
    "ECC_NIST_P384": {SIGN_VERIFY: ("SigningAlgorithms", ("ECDSA_SHA_384",)),
                      KEY_AGREEMENT: ("KeyAgreementAlgorithms", ("ECDH",))},
    "ECC_NIST_P521": {SIGN_VERIFY: ("SigningAlgorithms", ("ECDSA_SHA_512",)),
                      KEY_AGREEMENT: ("KeyAgreementAlgorithms", ("ECDH",))},
    "ECC_SECG_P256K1": {SIGN_VERIFY: ("SigningAlgorithms", ("ECDSA_SHA_256",))},
    "ECC_NIST_EDWARDS25519": {SIGN_VERIFY: ("SigningAlgorithms",
                                            ("ED25519_SHA_512", "ED25519_PH_SHA_512"))},
    **{f"ML_DSA_{n}": {SIGN_VERIFY: ("SigningAlgorithms", ("ML_DSA_SHAKE_256",))}
       for n in (44, 65, 87)},
    **{f"HMAC_{n}": {GENERATE_VERIFY_MAC: ("MacAlgorithms", (f"HMAC_SHA_{n}",))}
       for n in (224, 256, 384, 512)},
    "SM2": {ENCRYPT_DECRYPT: ("EncryptionAlgorithms", ("SM2PKE",)),
            SIGN_VERIFY: ("SigningAlgorithms", ("SM2DSA",)),
            KEY_AGREEMENT: ("KeyAgreementAlgorithms", ("ECDH",))},
    **{f"ML_KEM_{n}": {ENCAPSULATE_DECAPSULATE: ("EncapsulationAlgorithms", ("ML_KEM",))}
       for n in (512, 768, 1024)},
}

CHINA_ONLY = frozenset({"SM2"})
# The AWS China Regions (partition aws-cn): the only Regions that offer SM2 keys and key pairs.
CHINA_REGIONS = frozenset({"cn-north-1", "cn-northwest-1"})


def is_symmetric(spec: str) -> bool:
    return spec == "SYMMETRIC_DEFAULT"


def is_hmac(spec: str) -> bool:
    return spec.startswith("HMAC_")


def is_asymmetric(spec: str) -> bool:
    return not (is_symmetric(spec) or is_hmac(spec))


def algorithms(spec: str, usage: str) -> tuple[str, tuple[str, ...]] | None:
    """(metadata field, algorithms) for a key of ``spec`` used for ``usage``."""
    return SPECS.get(spec, {}).get(usage)


def is_china_region(region: str) -> bool:
    return region in CHINA_REGIONS


def china_only_error(parameter: str, spec: str):
    """What AWS answers for an SM2 key or key pair outside the China Regions.

    ``UnsupportedOperationException: KeySpec SM2 is not supported in this Region`` was reported
    from real KMS in us-east-1 (floci-io/floci#3026; UNCONFIRMED by a snapshot). ``parameter`` is
    the request member that named the spec (``KeySpec`` or ``KeyPairSpec``).
    """
    from . import _errors as E
    return E.UnsupportedOperationException(f"{parameter} {spec} is not supported in this Region")

