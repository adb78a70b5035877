"""Encapsulate / Decapsulate with ML-KEM keys (botocore >= 1.44; conftest does not collect this
file under an older model). Shared secrets are checked against local ML-KEM."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from helpers import error_of
from mockkms._crypto.pure import der as _der
from mockkms._crypto.pure import mlkem

SPECS = ("ML_KEM_512", "ML_KEM_768", "ML_KEM_1024")
CT_LEN = {"ML_KEM_512": 768, "ML_KEM_768": 1088, "ML_KEM_1024": 1568}
PK_LEN = {"ML_KEM_512": 800, "ML_KEM_768": 1184, "ML_KEM_1024": 1568}
OIDS = {"ML_KEM_512": "2.16.840.1.101.3.4.4.1", "ML_KEM_768": "2.16.840.1.101.3.4.4.2",
        "ML_KEM_1024": "2.16.840.1.101.3.4.4.3"}


# --- through KMS ------------------------------------------------------------------------------
def kem_key(kms, spec="ML_KEM_768"):
    return kms.create_key(KeySpec=spec, KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]


@pytest.mark.parametrize("spec", SPECS)
def test_encapsulate_then_decapsulate(kms, spec):
    md = kem_key(kms, spec)
    assert md["KeyUsage"] == "ENCAPSULATE_DECAPSULATE"
    assert md["EncapsulationAlgorithms"] == ["ML_KEM"]
    enc = kms.encapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM")
    assert enc["KeyId"] == md["Arn"] and enc["EncapsulationAlgorithm"] == "ML_KEM"
    assert len(enc["SharedSecret"]) == 32
    assert len(enc["SharedSecretCiphertextBlob"]) == CT_LEN[spec]
    dec = kms.decapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM",
                          SharedSecretCiphertextBlob=enc["SharedSecretCiphertextBlob"])
    assert dec["SharedSecret"] == enc["SharedSecret"]
    assert dec["KeyId"] == md["Arn"] and dec["EncapsulationAlgorithm"] == "ML_KEM"
    again = kms.encapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM")
    assert again["SharedSecret"] != enc["SharedSecret"]


@pytest.mark.parametrize("spec", SPECS)
def test_local_encapsulation_to_public_key(kms, spec):
    md = kem_key(kms, spec)
    pub = kms.get_public_key(KeyId=md["KeyId"])
    assert pub["KeySpec"] == spec and pub["KeyUsage"] == "ENCAPSULATE_DECAPSULATE"
    assert pub["EncapsulationAlgorithms"] == ["ML_KEM"]
    algorithm, raw = _der.parse_spki(pub["PublicKey"])
    assert [_der.as_oid(v) for _, v in algorithm] == [OIDS[spec]]
    assert len(raw) == PK_LEN[spec]
    # a peer encapsulates offline: with the pure-Python FIPS 203 code and, where it has the
    # parameter set, with ``cryptography``
    ciphertext, secret = mlkem.encaps_internal(spec, raw, bytes(range(32)))
    assert kms.decapsulate(KeyId=md["Arn"], EncapsulationAlgorithm="ML_KEM",
                           SharedSecretCiphertextBlob=ciphertext)["SharedSecret"] == secret
    from cryptography.hazmat.primitives.asymmetric import mlkem as native
    public_cls = getattr(native, f"MLKEM{spec[7:]}PublicKey", None)
    if public_cls is not None:
        secret, ciphertext = public_cls.from_public_bytes(raw).encapsulate()
        assert kms.decapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM",
                               SharedSecretCiphertextBlob=ciphertext)["SharedSecret"] == secret


def test_tampered_or_foreign_ciphertext_gives_a_different_secret(kms):
    md, other = kem_key(kms, "ML_KEM_512"), kem_key(kms, "ML_KEM_512")
    enc = kms.encapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM")
    blob = enc["SharedSecretCiphertextBlob"]
    tampered = bytes([blob[0] ^ 1]) + blob[1:]
    first = kms.decapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM",
                            SharedSecretCiphertextBlob=tampered)["SharedSecret"]
    second = kms.decapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM",
                             SharedSecretCiphertextBlob=tampered)["SharedSecret"]
    assert len(first) == 32 and first != enc["SharedSecret"]
    assert first == second  # implicit rejection is deterministic
    foreign = kms.decapsulate(KeyId=other["KeyId"], EncapsulationAlgorithm="ML_KEM",
                              SharedSecretCiphertextBlob=blob)["SharedSecret"]
    assert len(foreign) == 32 and foreign != enc["SharedSecret"]


@pytest.mark.parametrize("length", [767, 769, 1088])
def test_wrong_ciphertext_length(kms, length):
    md = kem_key(kms, "ML_KEM_512")
    with pytest.raises(kms.exceptions.InvalidCiphertextException) as exc:
        kms.decapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM",
                        SharedSecretCiphertextBlob=b"\x01" * length)
    assert error_of(exc) == ("InvalidCiphertextException", "")


def test_wrong_key_usage(kms, key_id):
    key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")
    assert error_of(exc) == ("InvalidKeyUsageException",
                             f"{key_arn} key usage is ENCRYPT_DECRYPT which is not valid for "
                             f"Encapsulate.")
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.decapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM",
                        SharedSecretCiphertextBlob=b"\x00" * 768)
    assert error_of(exc)[1] == (f"{key_arn} key usage is ENCRYPT_DECRYPT which is not valid "
                                f"for Decapsulate.")


def test_kem_key_cannot_encrypt_or_sign(kms):
    md = kem_key(kms)
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.sign(KeyId=md["KeyId"], Message=b"m", SigningAlgorithm="ML_DSA_SHAKE_256")
    assert error_of(exc)[1] == (f"{md['Arn']} key usage is ENCAPSULATE_DECAPSULATE which is "
                                f"not valid for Sign.")


def test_unknown_algorithm(kms):
    md = kem_key(kms)
    with pytest.raises(ClientError) as exc:
        kms.encapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="KYBER")
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert message == ("1 validation error detected: Value 'KYBER' at 'encapsulationAlgorithm' "
                       "failed to satisfy constraint: Member must satisfy enum value set: "
                       "[ML_KEM]")


def test_key_states(kms):
    md = kem_key(kms)
    blob = kms.encapsulate(KeyId=md["KeyId"],
                           EncapsulationAlgorithm="ML_KEM")["SharedSecretCiphertextBlob"]
    kms.disable_key(KeyId=md["KeyId"])
    for call in (lambda: kms.encapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM"),
                 lambda: kms.decapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM",
                                         SharedSecretCiphertextBlob=blob)):
        with pytest.raises(kms.exceptions.DisabledException) as exc:
            call()
        assert error_of(exc) == ("DisabledException", f"{md['Arn']} is disabled.")
    kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        kms.decapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM",
                        SharedSecretCiphertextBlob=blob)
    assert error_of(exc) == ("KMSInvalidStateException", f"{md['Arn']} is pending deletion.")


def test_dry_run_aliases_and_unknown_key(kms):
    md = kem_key(kms)
    kms.create_alias(AliasName="alias/kem", TargetKeyId=md["KeyId"])
    token = kms.create_grant(KeyId=md["KeyId"], GranteePrincipal="arn:aws:iam::123456789012:root",
                             Operations=["Encapsulate", "Decapsulate"])["GrantToken"]
    with pytest.raises(kms.exceptions.DryRunOperationException) as exc:
        kms.encapsulate(KeyId="alias/kem", EncapsulationAlgorithm="ML_KEM", DryRun=True,
                        GrantTokens=[token])
    assert error_of(exc) == ("DryRunOperationException",
                             "The request would have succeeded, but the DryRun option is set.")
    enc = kms.encapsulate(KeyId="alias/kem", EncapsulationAlgorithm="ML_KEM")
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.decapsulate(KeyId="alias/kem", EncapsulationAlgorithm="ML_KEM", DryRun=True,
                        SharedSecretCiphertextBlob=enc["SharedSecretCiphertextBlob"])
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.encapsulate(KeyId="alias/none", EncapsulationAlgorithm="ML_KEM")
    assert error_of(exc) == ("NotFoundException",
                             "Alias arn:aws:kms:us-east-1:123456789012:alias/none is not found.")


def test_grant_tokens_missing_keys_and_pending_deletion(kms):
    """The modeled errors of Encapsulate/Decapsulate the tests above do not produce (grant token
    text: the mock's choice, AWS's is not recorded)."""
    md = kem_key(kms)
    missing = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    blob = kms.encapsulate(KeyId=md["KeyId"],
                           EncapsulationAlgorithm="ML_KEM")["SharedSecretCiphertextBlob"]
    for method, extra in (("encapsulate", {}),
                          ("decapsulate", {"SharedSecretCiphertextBlob": blob})):
        call = getattr(kms, method)
        with pytest.raises(kms.exceptions.InvalidGrantTokenException) as exc:
            call(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM", GrantTokens=["not-a-token"],
                 **extra)
        assert error_of(exc) == ("InvalidGrantTokenException", "The grant token is not valid.")
        with pytest.raises(kms.exceptions.NotFoundException) as exc:
            call(KeyId=missing, EncapsulationAlgorithm="ML_KEM", **extra)
        assert error_of(exc) == ("NotFoundException", f"Key '{missing}' does not exist")
    kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        kms.encapsulate(KeyId=md["KeyId"], EncapsulationAlgorithm="ML_KEM")
    assert error_of(exc) == ("KMSInvalidStateException", f"{md['Arn']} is pending deletion.")
