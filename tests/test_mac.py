"""GenerateMac / VerifyMac on HMAC keys: real HMACs, AWS's errors for usage, algorithm, state."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from helpers import error_of

SPECS = {"HMAC_224": ("HMAC_SHA_224", 28), "HMAC_256": ("HMAC_SHA_256", 32),
         "HMAC_384": ("HMAC_SHA_384", 48), "HMAC_512": ("HMAC_SHA_512", 64)}


def hmac_key(kms, spec="HMAC_256"):
    return kms.create_key(KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_generate_and_verify_each_spec(kms, spec):
    md = hmac_key(kms, spec)
    algorithm, length = SPECS[spec]
    assert md["MacAlgorithms"] == [algorithm]
    out = kms.generate_mac(KeyId=md["KeyId"], Message=b"important message",
                           MacAlgorithm=algorithm)
    assert out["KeyId"] == md["Arn"] and out["MacAlgorithm"] == algorithm
    assert len(out["Mac"]) == length
    again = kms.generate_mac(KeyId=md["KeyId"], Message=b"important message",
                             MacAlgorithm=algorithm)
    assert again["Mac"] == out["Mac"]  # HMAC is deterministic
    ok = kms.verify_mac(KeyId=md["KeyId"], Message=b"important message", Mac=out["Mac"],
                        MacAlgorithm=algorithm)
    assert ok == {"KeyId": md["Arn"], "MacValid": True, "MacAlgorithm": algorithm,
                  "ResponseMetadata": ok["ResponseMetadata"]}


def test_macs_differ_per_key_and_message(kms):
    a, b = hmac_key(kms), hmac_key(kms)

    def mac(k, m):
        return kms.generate_mac(KeyId=k["KeyId"], Message=m, MacAlgorithm="HMAC_SHA_256")["Mac"]

    assert mac(a, b"m1") != mac(b, b"m1")
    assert mac(a, b"m1") != mac(a, b"m2")


def _invalid_mac(kms, **kw):
    with pytest.raises(kms.exceptions.KMSInvalidMacException) as exc:
        kms.verify_mac(MacAlgorithm="HMAC_SHA_256", **kw)
    assert error_of(exc) == ("KMSInvalidMacException", "")
    assert "MacValid" not in exc.value.response


def test_verify_mac_rejects_flipped_bit_other_message_other_key_and_length(kms):
    md, other = hmac_key(kms), hmac_key(kms)
    mac = kms.generate_mac(KeyId=md["KeyId"], Message=b"important message",
                           MacAlgorithm="HMAC_SHA_256")["Mac"]
    flipped = bytes([mac[0] ^ 1]) + mac[1:]
    _invalid_mac(kms, KeyId=md["KeyId"], Message=b"important message", Mac=flipped)
    _invalid_mac(kms, KeyId=md["KeyId"], Message=b"some different important message", Mac=mac)
    _invalid_mac(kms, KeyId=other["KeyId"], Message=b"important message", Mac=mac)
    _invalid_mac(kms, KeyId=md["KeyId"], Message=b"important message", Mac=mac[:16])


@pytest.mark.parametrize("spec,algorithm", [("HMAC_224", "HMAC_SHA_256"),
                                            ("HMAC_256", "HMAC_SHA_512"),
                                            ("HMAC_512", "HMAC_SHA_384")])
def test_algorithm_must_match_spec(kms, spec, algorithm):
    md = hmac_key(kms, spec)
    for call in (lambda: kms.generate_mac(KeyId=md["KeyId"], Message=b"m",
                                          MacAlgorithm=algorithm),
                 lambda: kms.verify_mac(KeyId=md["KeyId"], Message=b"m", Mac=b"x" * 32,
                                        MacAlgorithm=algorithm)):
        with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
            call()
        assert error_of(exc) == ("InvalidKeyUsageException",
                                 f"Algorithm {algorithm} is incompatible with key spec {spec}.")


def test_unknown_algorithm_is_a_validation_error(kms):
    md = hmac_key(kms)
    with pytest.raises(ClientError) as exc:
        kms.generate_mac(KeyId=md["KeyId"], Message=b"m", MacAlgorithm="INVALID")
    code, message = error_of(exc)
    prefix = ("1 validation error detected: Value 'INVALID' at 'macAlgorithm' failed to satisfy "
              "constraint: Member must satisfy enum value set: [")
    assert code == "ValidationException" and message.startswith(prefix)
    # AWS lists the set in its own (hash) order: HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, ...
    assert sorted(message[len(prefix):-1].split(", ")) == [
        "HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"]


def test_wrong_key_usage(kms, key_id):
    key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.generate_mac(KeyId=key_id, Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert error_of(exc) == ("InvalidKeyUsageException",
                             f"{key_arn} key usage is ENCRYPT_DECRYPT which is not valid for "
                             f"GenerateMac.")
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.verify_mac(KeyId=key_id, Message=b"m", Mac=b"x" * 32, MacAlgorithm="HMAC_SHA_256")
    assert error_of(exc)[1] == (f"{key_arn} key usage is ENCRYPT_DECRYPT which is not valid "
                                f"for VerifyMac.")


def test_hmac_key_cannot_encrypt(kms):
    md = hmac_key(kms)
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x")
    assert error_of(exc)[1] == (f"{md['Arn']} key usage is GENERATE_VERIFY_MAC which is not "
                                f"valid for Encrypt.")


def test_disabled_and_pending_deletion(kms):
    md = hmac_key(kms)
    mac = kms.generate_mac(KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    kms.disable_key(KeyId=md["KeyId"])
    for call in (lambda: kms.generate_mac(KeyId=md["KeyId"], Message=b"m",
                                          MacAlgorithm="HMAC_SHA_256"),
                 lambda: kms.verify_mac(KeyId=md["KeyId"], Message=b"m", Mac=mac,
                                        MacAlgorithm="HMAC_SHA_256")):
        with pytest.raises(kms.exceptions.DisabledException) as exc:
            call()
        assert error_of(exc) == ("DisabledException", f"{md['Arn']} is disabled.")
    kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        kms.verify_mac(KeyId=md["KeyId"], Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")
    assert error_of(exc) == ("KMSInvalidStateException", f"{md['Arn']} is pending deletion.")


def test_state_check_comes_before_algorithm_check(kms):
    md = hmac_key(kms, "HMAC_224")
    kms.disable_key(KeyId=md["KeyId"])
    with pytest.raises(kms.exceptions.DisabledException):
        kms.generate_mac(KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")


def test_dry_run(kms):
    md = hmac_key(kms)
    mac = kms.generate_mac(KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    for call in (lambda: kms.generate_mac(KeyId=md["KeyId"], Message=b"m",
                                          MacAlgorithm="HMAC_SHA_256", DryRun=True),
                 lambda: kms.verify_mac(KeyId=md["KeyId"], Message=b"m", Mac=mac,
                                        MacAlgorithm="HMAC_SHA_256", DryRun=True)):
        with pytest.raises(kms.exceptions.DryRunOperationException) as exc:
            call()
        assert error_of(exc) == ("DryRunOperationException",
                                 "The request would have succeeded, but the DryRun option is set.")
    # DryRun still reports what is wrong with the request
    with pytest.raises(kms.exceptions.InvalidKeyUsageException):
        kms.generate_mac(KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_512",
                         DryRun=True)


def test_key_forms_and_grant_tokens(kms):
    md = hmac_key(kms)
    kms.create_alias(AliasName="alias/mac", TargetKeyId=md["KeyId"])
    alias_arn = md["Arn"].replace(f"key/{md['KeyId']}", "alias/mac")
    token = kms.create_grant(KeyId=md["KeyId"], GranteePrincipal="arn:aws:iam::123456789012:root",
                             Operations=["GenerateMac", "VerifyMac"])["GrantToken"]
    macs = {kms.generate_mac(KeyId=k, Message=b"m", MacAlgorithm="HMAC_SHA_256",
                             GrantTokens=[token])["Mac"]
            for k in (md["KeyId"], md["Arn"], "alias/mac", alias_arn)}
    assert len(macs) == 1
    out = kms.verify_mac(KeyId="alias/mac", Message=b"m", Mac=macs.pop(),
                         MacAlgorithm="HMAC_SHA_256")
    assert out["KeyId"] == md["Arn"]


def test_unknown_and_malformed_keys(kms):
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.generate_mac(KeyId="fake-key-id", Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert error_of(exc) == ("NotFoundException", "Invalid keyId 'fake-key-id'")
    missing = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.verify_mac(KeyId=missing, Message=b"m", Mac=b"x", MacAlgorithm="HMAC_SHA_256")
    assert error_of(exc)[1] == (f"Key 'arn:aws:kms:us-east-1:123456789012:key/{missing}' "
                                f"does not exist")


def test_message_too_long(kms):
    md = hmac_key(kms)
    with pytest.raises(ClientError) as exc:
        kms.generate_mac(KeyId=md["KeyId"], Message=b"m" * 4097, MacAlgorithm="HMAC_SHA_256")
    code, message = error_of(exc)
    assert code == "ValidationException" and "at 'message'" in message


def test_last_usage_recorded(kms):
    md = hmac_key(kms)
    kms.generate_mac(KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")
    usage = kms.get_key_last_usage(KeyId=md["KeyId"])
    assert usage["KeyLastUsage"]["Operation"] == "GenerateMac"


def test_imported_material_matches_local_hmac(kms):
    """With material we know (imported), the MAC is exactly RFC 2104 HMAC-SHA-256 over it."""
    import hashlib
    import hmac
    import os

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    md = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC",
                        Origin="EXTERNAL")["KeyMetadata"]
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        kms.generate_mac(KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert error_of(exc) == ("KMSInvalidStateException", f"{md['Arn']} is pending import.")
    params = kms.get_parameters_for_import(
        KeyId=md["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    secret = os.urandom(32)
    wrapped = serialization.load_der_public_key(params["PublicKey"]).encrypt(
        secret, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                             label=None))
    kms.import_key_material(KeyId=md["KeyId"], ImportToken=params["ImportToken"],
                            EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    mac = kms.generate_mac(KeyId=md["KeyId"], Message=b"message",
                           MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == hmac.new(secret, b"message", hashlib.sha256).digest()
