"""Sign, Verify, GetPublicKey and DeriveSharedSecret: every signing algorithm of every key spec,
checked OUTSIDE the mock with ``cryptography`` and only GetPublicKey's output; AWS's errors."""
from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from helpers import error_of

HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
SIGN_SPECS = {
    **{f"RSA_{n}": [f"RSASSA_{p}_SHA_{h}" for p in ("PKCS1_V1_5", "PSS")
                    for h in (256, 384, 512)] for n in (2048, 3072, 4096)},
    "ECC_NIST_P256": ["ECDSA_SHA_256"], "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"], "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
    "ECC_NIST_EDWARDS25519": ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    "ML_DSA_44": ["ML_DSA_SHAKE_256"], "ML_DSA_65": ["ML_DSA_SHAKE_256"],
    "ML_DSA_87": ["ML_DSA_SHAKE_256"],
}
MESSAGE = b"the message to sign"


def new_key(kms, spec, usage="SIGN_VERIFY"):
    md = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
    return md["KeyId"], md["Arn"]


def digest_of(algorithm, message=MESSAGE):
    h = HASHES[algorithm[-3:]]
    ctx = hashes.Hash(h)
    ctx.update(message)
    return ctx.finalize()


def verify_locally(public_der, algorithm, message, message_type, signature):
    """Verify with cryptography only (raises InvalidSignature when wrong)."""
    public = serialization.load_der_public_key(public_der)
    if algorithm.startswith(("RSASSA_", "ECDSA_")):
        h = HASHES[algorithm[-3:]]
        chosen = utils.Prehashed(h) if message_type == "DIGEST" else h
        if algorithm.startswith("ECDSA_"):
            return public.verify(signature, message, ec.ECDSA(chosen))
        pad = (padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
               if "_PSS_" in algorithm else padding.PKCS1v15())
        return public.verify(signature, message, pad, chosen)
    return public.verify(signature, message)  # Ed25519 and ML-DSA, pure mode


def sign(kms, key_id, algorithm, message=MESSAGE, message_type="RAW"):
    return kms.sign(KeyId=key_id, Message=message, MessageType=message_type,
                    SigningAlgorithm=algorithm)


@pytest.mark.parametrize("spec", sorted(SIGN_SPECS))
def test_every_algorithm_verifies_outside_kms(kms, spec):
    key_id, arn = new_key(kms, spec)
    public = kms.get_public_key(KeyId=key_id)
    assert public["SigningAlgorithms"] == SIGN_SPECS[spec]
    for algorithm in SIGN_SPECS[spec]:
        if algorithm != "ED25519_PH_SHA_512":
            out = sign(kms, key_id, algorithm)
            assert (out["KeyId"], out["SigningAlgorithm"]) == (arn, algorithm)
            verify_locally(public["PublicKey"], algorithm, MESSAGE, "RAW", out["Signature"])
            assert kms.verify(KeyId=key_id, Message=MESSAGE, Signature=out["Signature"],
                              SigningAlgorithm=algorithm)["SignatureValid"] is True
        if algorithm.startswith(("RSASSA_", "ECDSA_")):
            digest = digest_of(algorithm)
            out = sign(kms, key_id, algorithm, digest, "DIGEST")
            verify_locally(public["PublicKey"], algorithm, digest, "DIGEST", out["Signature"])
            # a digest signature is the signature of the message: RAW verification accepts it
            verify_locally(public["PublicKey"], algorithm, MESSAGE, "RAW", out["Signature"])
            assert kms.verify(KeyId=key_id, Message=MESSAGE, Signature=out["Signature"],
                              SigningAlgorithm=algorithm)["SignatureValid"] is True


def test_rsa_pss_salt_is_digest_length(kms):
    key_id, _ = new_key(kms, "RSA_2048")
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    signature = sign(kms, key_id, "RSASSA_PSS_SHA_384")["Signature"]
    public.verify(signature, MESSAGE, padding.PSS(mgf=padding.MGF1(hashes.SHA384()),
                                                  salt_length=48), hashes.SHA384())
    with pytest.raises(InvalidSignature):
        public.verify(signature, MESSAGE, padding.PSS(mgf=padding.MGF1(hashes.SHA384()),
                                                      salt_length=32), hashes.SHA384())


def test_ecdsa_signatures_are_der_and_randomised(kms):
    key_id, _ = new_key(kms, "ECC_NIST_P256")
    one, two = (sign(kms, key_id, "ECDSA_SHA_256")["Signature"] for _ in range(2))
    assert one != two and one[0] == 0x30  # DER SEQUENCE
    utils.decode_dss_signature(one)


def test_ed25519_ph_over_digest(kms):
    key_id, _ = new_key(kms, "ECC_NIST_EDWARDS25519")
    digest = hashlib.sha512(MESSAGE).digest()
    out = sign(kms, key_id, "ED25519_PH_SHA_512", digest, "DIGEST")
    assert len(out["Signature"]) == 64
    assert out["Signature"] != sign(kms, key_id, "ED25519_SHA_512")["Signature"]
    assert kms.verify(KeyId=key_id, Message=digest, MessageType="DIGEST",
                      Signature=out["Signature"],
                      SigningAlgorithm="ED25519_PH_SHA_512")["SignatureValid"] is True
    with pytest.raises(ClientError) as exc:
        kms.verify(KeyId=key_id, Message=hashlib.sha512(b"other").digest(),
                   MessageType="DIGEST", Signature=out["Signature"],
                   SigningAlgorithm="ED25519_PH_SHA_512")
    assert error_of(exc) == ("KMSInvalidSignatureException", "")


@pytest.mark.parametrize("algorithm,message_type", [("ED25519_SHA_512", "DIGEST"),
                                                    ("ED25519_PH_SHA_512", "RAW")])
def test_ed25519_message_type_must_match_algorithm(kms, algorithm, message_type):
    key_id, _ = new_key(kms, "ECC_NIST_EDWARDS25519")
    for call in (lambda: sign(kms, key_id, algorithm, bytes(64), message_type),
                 lambda: kms.verify(KeyId=key_id, Message=bytes(64), MessageType=message_type,
                                    Signature=bytes(64), SigningAlgorithm=algorithm)):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == (
            "ValidationException",
            f"Message type {message_type} is incompatible with algorithm {algorithm}.")


def external_mu(public_raw: bytes, message: bytes) -> bytes:
    """FIPS 204 mu = H(H(pk, 64) || 0x00 || len(ctx) || ctx || M, 64), empty context."""
    tr = hashlib.shake_256(public_raw).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_87"])
def test_ml_dsa_external_mu_signature_verifies_for_the_message(kms, spec):
    key_id, _ = new_key(kms, spec)
    der = kms.get_public_key(KeyId=key_id)["PublicKey"]
    public = serialization.load_der_public_key(der)
    mu = external_mu(public.public_bytes_raw(), MESSAGE)
    signature = sign(kms, key_id, "ML_DSA_SHAKE_256", mu, "EXTERNAL_MU")["Signature"]
    public.verify(signature, MESSAGE)  # the signature of mu is the message's signature
    assert kms.verify(KeyId=key_id, Message=mu, MessageType="EXTERNAL_MU", Signature=signature,
                      SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"] is True
    raw = sign(kms, key_id, "ML_DSA_SHAKE_256")["Signature"]
    assert kms.verify(KeyId=key_id, Message=mu, MessageType="EXTERNAL_MU", Signature=raw,
                      SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"] is True
    with pytest.raises(ClientError) as exc:
        kms.verify(KeyId=key_id, Message=external_mu(public.public_bytes_raw(), b"x"),
                   MessageType="EXTERNAL_MU", Signature=signature,
                   SigningAlgorithm="ML_DSA_SHAKE_256")
    assert error_of(exc) == ("KMSInvalidSignatureException", "")


def test_ml_dsa_message_type_rules(kms):
    key_id, _ = new_key(kms, "ML_DSA_44")
    with pytest.raises(ClientError) as exc:
        sign(kms, key_id, "ML_DSA_SHAKE_256", bytes(32), "DIGEST")
    assert error_of(exc) == ("ValidationException",
                             "Message type DIGEST is incompatible with key spec ML_DSA_44.")
    with pytest.raises(ClientError) as exc:
        sign(kms, key_id, "ML_DSA_SHAKE_256", bytes(63), "EXTERNAL_MU")
    assert error_of(exc) == ("ValidationException",
                             "Digest is invalid length for algorithm ML_DSA_SHAKE_256.")
    ecc_id, _ = new_key(kms, "ECC_NIST_P256")
    with pytest.raises(ClientError) as exc:
        sign(kms, ecc_id, "ECDSA_SHA_256", bytes(64), "EXTERNAL_MU")
    assert error_of(exc) == ("ValidationException",
                             "Message type EXTERNAL_MU is incompatible with key spec "
                             "ECC_NIST_P256.")


@pytest.mark.parametrize("spec,algorithm,length", [
    ("ECC_NIST_P256", "ECDSA_SHA_256", 32), ("ECC_NIST_P521", "ECDSA_SHA_512", 64),
    ("RSA_2048", "RSASSA_PSS_SHA_384", 48), ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", 64)])
def test_digest_length_is_checked(kms, spec, algorithm, length):
    key_id, _ = new_key(kms, spec)
    for bad in (length - 1, length + 1):
        with pytest.raises(ClientError) as exc:
            sign(kms, key_id, algorithm, bytes(bad), "DIGEST")
        assert error_of(exc) == ("ValidationException",
                                 f"Digest is invalid length for algorithm {algorithm}.")
        with pytest.raises(ClientError) as exc:
            kms.verify(KeyId=key_id, Message=bytes(bad), MessageType="DIGEST",
                       Signature=b"sig", SigningAlgorithm=algorithm)
        assert error_of(exc) == ("ValidationException",
                                 f"Digest is invalid length for algorithm {algorithm}.")


@pytest.mark.parametrize("spec,algorithm", [("ECC_NIST_P521", "ECDSA_SHA_256"),
                                            ("RSA_2048", "ECDSA_SHA_256"),
                                            ("ECC_NIST_P256", "RSASSA_PSS_SHA_256"),
                                            ("ML_DSA_65", "ED25519_SHA_512")])
def test_algorithm_must_suit_the_key_spec(kms, spec, algorithm):
    key_id, _ = new_key(kms, spec)
    with pytest.raises(ClientError) as exc:
        sign(kms, key_id, algorithm)
    assert error_of(exc) == ("InvalidKeyUsageException",
                             f"Algorithm {algorithm} is incompatible with key spec {spec}.")


@pytest.mark.parametrize("spec,usage", [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
                                        ("HMAC_256", "GENERATE_VERIFY_MAC"),
                                        ("RSA_2048", "ENCRYPT_DECRYPT"),
                                        ("ECC_NIST_P256", "KEY_AGREEMENT")])
def test_sign_and_verify_need_a_sign_verify_key(kms, spec, usage):
    key_id, arn = new_key(kms, spec, usage)
    for op, call in (("Sign", lambda: sign(kms, key_id, "ECDSA_SHA_256")),
                     ("Verify", lambda: kms.verify(KeyId=key_id, Message=MESSAGE, Signature=b"s",
                                                   SigningAlgorithm="ECDSA_SHA_256"))):
        with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
            call()
        assert error_of(exc)[1] == f"{arn} key usage is {usage} which is not valid for {op}."


def test_bad_signature_raises_without_message(kms):
    key_id, _ = new_key(kms, "ECC_NIST_P384")
    signature = sign(kms, key_id, "ECDSA_SHA_384")["Signature"]
    for message, sig, message_type in (
            (b"another message", signature, "RAW"),
            (MESSAGE, signature[:-1] + bytes([signature[-1] ^ 1]), "RAW"),
            (MESSAGE, b"\x00" * 10, "RAW"),
            (hashlib.sha384(MESSAGE).digest()[::-1], signature, "DIGEST")):
        with pytest.raises(kms.exceptions.KMSInvalidSignatureException) as exc:
            kms.verify(KeyId=key_id, Message=message, Signature=sig, MessageType=message_type,
                       SigningAlgorithm="ECDSA_SHA_384")
        assert error_of(exc) == ("KMSInvalidSignatureException", "")
        assert "message" not in exc.value.response["Error"] or \
            exc.value.response["Error"]["Message"] == ""


def test_alias_dry_run_grant_tokens_disabled_key(kms):
    key_id, arn = new_key(kms, "ECC_SECG_P256K1")
    kms.create_alias(AliasName="alias/signer", TargetKeyId=key_id)
    token = kms.create_grant(KeyId=key_id, GranteePrincipal="arn:aws:iam::123456789012:root",
                             Operations=["Sign"])["GrantToken"]
    out = kms.sign(KeyId="alias/signer", Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256",
                   GrantTokens=[token])
    assert out["KeyId"] == arn
    assert kms.get_public_key(KeyId="alias/signer")["KeyId"] == arn
    with pytest.raises(kms.exceptions.DryRunOperationException) as exc:
        kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256", DryRun=True)
    assert error_of(exc)[1] == "The request would have succeeded, but the DryRun option is set."
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.verify(KeyId=key_id, Message=MESSAGE, Signature=out["Signature"],
                   SigningAlgorithm="ECDSA_SHA_256", DryRun=True)
    kms.disable_key(KeyId=key_id)
    for call in (lambda: sign(kms, key_id, "ECDSA_SHA_256"),
                 lambda: kms.verify(KeyId=key_id, Message=MESSAGE, Signature=out["Signature"],
                                    SigningAlgorithm="ECDSA_SHA_256"),
                 lambda: kms.get_public_key(KeyId=key_id)):
        with pytest.raises(kms.exceptions.DisabledException) as exc:
            call()
        assert error_of(exc)[1] == f"{arn} is disabled."


def test_sign_counts_as_last_use(kms):
    key_id, _ = new_key(kms, "ECC_NIST_P256")
    kms.get_public_key(KeyId=key_id)
    assert "KeyLastUsage" not in kms.get_key_last_usage(KeyId=key_id)
    sign(kms, key_id, "ECDSA_SHA_256")
    assert kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]["Operation"] == "Sign"


# --- GetPublicKey ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec,usage,field,algorithms,size", [
    ("RSA_2048", "ENCRYPT_DECRYPT", "EncryptionAlgorithms",
     ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], 294),
    ("ECC_NIST_P256", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"], 91),
    ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", "SigningAlgorithms",
     ["ED25519_SHA_512", "ED25519_PH_SHA_512"], 44),
    ("ML_DSA_44", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"], 1334),
])
def test_get_public_key_fields(kms, spec, usage, field, algorithms, size):
    key_id, arn = new_key(kms, spec, usage)
    out = kms.get_public_key(KeyId=key_id)
    out.pop("ResponseMetadata")
    der = out.pop("PublicKey")
    assert len(der) == size
    serialization.load_der_public_key(der)
    assert out == {"KeyId": arn, "CustomerMasterKeySpec": spec, "KeySpec": spec,
                   "KeyUsage": usage, field: algorithms}


@pytest.mark.parametrize("spec,usage", [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
                                        ("HMAC_384", "GENERATE_VERIFY_MAC")])
def test_get_public_key_of_symmetric_keys_is_unsupported(kms, spec, usage):
    key_id, arn = new_key(kms, spec, usage)
    with pytest.raises(kms.exceptions.UnsupportedOperationException) as exc:
        kms.get_public_key(KeyId=key_id)
    assert error_of(exc)[1] == f"{arn} key spec {spec} is not valid for GetPublicKey."


# --- DeriveSharedSecret ----------------------------------------------------------------------
CURVES = {"ECC_NIST_P256": ec.SECP256R1(), "ECC_NIST_P384": ec.SECP384R1(),
          "ECC_NIST_P521": ec.SECP521R1()}


def spki(private) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("spec", sorted(CURVES))
def test_derive_shared_secret_matches_local_ecdh(kms, spec):
    key_id, arn = new_key(kms, spec, "KEY_AGREEMENT")
    peer = ec.generate_private_key(CURVES[spec])
    out = kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH",
                                   PublicKey=spki(peer))
    kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert out["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public)
    assert (out["KeyId"], out["KeyAgreementAlgorithm"], out["KeyOrigin"]) == (
        arn, "ECDH", "AWS_KMS")
    assert kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]["Operation"] == \
        "DeriveSharedSecret"


def test_derive_shared_secret_errors(kms):
    key_id, _ = new_key(kms, "ECC_NIST_P256", "KEY_AGREEMENT")
    other_curve = spki(ec.generate_private_key(ec.SECP384R1()))
    for bad in (b"not a DER public key", other_curve):
        with pytest.raises(ClientError) as exc:
            kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=bad)
        assert error_of(exc) == ("ValidationException", "")
    with pytest.raises(ClientError) as exc:
        kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="INVALID",
                                 PublicKey=other_curve)
    assert error_of(exc) == ("ValidationException", "1 validation error detected: Value "
                             "'INVALID' at 'keyAgreementAlgorithm' failed to satisfy constraint: "
                             "Member must satisfy enum value set: [ECDH]")
    good = spki(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=good,
                                 DryRun=True)
    for spec, usage in (("ECC_NIST_P256", "SIGN_VERIFY"), ("SYMMETRIC_DEFAULT",
                                                           "ENCRYPT_DECRYPT")):
        other_id, arn = new_key(kms, spec, usage)
        with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
            kms.derive_shared_secret(KeyId=other_id, KeyAgreementAlgorithm="ECDH",
                                     PublicKey=good)
        assert error_of(exc)[1] == (
            f"{arn} key usage is {usage} which is not valid for DeriveSharedSecret.")
    kms.disable_key(KeyId=key_id)
    with pytest.raises(kms.exceptions.DisabledException):
        kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=good)


def test_key_agreement_spec_must_suit_usage(kms):
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="RSA_2048", KeyUsage="KEY_AGREEMENT")
    assert error_of(exc) == ("ValidationException",
                             "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048")


def test_external_mu_without_dilithium_py_says_so(kms, monkeypatch):
    import sys
    key_id, _ = new_key(kms, "ML_DSA_44")
    monkeypatch.setitem(sys.modules, "dilithium_py.ml_dsa", None)  # import fails
    with pytest.raises(kms.exceptions.UnsupportedOperationException) as exc:
        sign(kms, key_id, "ML_DSA_SHAKE_256", bytes(64), "EXTERNAL_MU")
    assert error_of(exc)[1] == ("mockkms: ML-DSA signing with MessageType EXTERNAL_MU needs the "
                                "dilithium-py package")
    assert sign(kms, key_id, "ML_DSA_SHAKE_256")["Signature"]  # RAW needs only cryptography
