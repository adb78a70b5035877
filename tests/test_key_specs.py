"""CreateKey for every KeySpec/KeyUsage pair, what DescribeKey lists per spec, the SM2 Region
rule, and the lazy, private, copyable key material holder of asymmetric keys."""
from __future__ import annotations

import copy
import pickle

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of
from mockkms import _keyspecs as specs

RSA_SIGN = ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512", "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512"]
# (KeySpec, KeyUsage) -> (the algorithm field DescribeKey shows, its value)
EXPECTED = {
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"): ("EncryptionAlgorithms", ["SYMMETRIC_DEFAULT"]),
    **{(f"HMAC_{n}", "GENERATE_VERIFY_MAC"): ("MacAlgorithms", [f"HMAC_SHA_{n}"])
       for n in (224, 256, 384, 512)},
    **{(f"RSA_{n}", "ENCRYPT_DECRYPT"): ("EncryptionAlgorithms",
                                         ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
       for n in (2048, 3072, 4096)},
    **{(f"RSA_{n}", "SIGN_VERIFY"): ("SigningAlgorithms", RSA_SIGN) for n in (2048, 3072, 4096)},
    ("ECC_NIST_P256", "SIGN_VERIFY"): ("SigningAlgorithms", ["ECDSA_SHA_256"]),
    ("ECC_NIST_P384", "SIGN_VERIFY"): ("SigningAlgorithms", ["ECDSA_SHA_384"]),
    ("ECC_NIST_P521", "SIGN_VERIFY"): ("SigningAlgorithms", ["ECDSA_SHA_512"]),
    **{(f"ECC_NIST_P{n}", "KEY_AGREEMENT"): ("KeyAgreementAlgorithms", ["ECDH"])
       for n in (256, 384, 521)},
    ("ECC_SECG_P256K1", "SIGN_VERIFY"): ("SigningAlgorithms", ["ECDSA_SHA_256"]),
    ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"): ("SigningAlgorithms",
                                               ["ED25519_SHA_512", "ED25519_PH_SHA_512"]),
    **{(f"ML_DSA_{n}", "SIGN_VERIFY"): ("SigningAlgorithms", ["ML_DSA_SHAKE_256"])
       for n in (44, 65, 87)},
}
SM2_EXPECTED = {
    "ENCRYPT_DECRYPT": ("EncryptionAlgorithms", ["SM2PKE"]),
    "SIGN_VERIFY": ("SigningAlgorithms", ["SM2DSA"]),
    "KEY_AGREEMENT": ("KeyAgreementAlgorithms", ["ECDH"]),
}
ALGORITHM_FIELDS = ("EncryptionAlgorithms", "SigningAlgorithms", "KeyAgreementAlgorithms",
                    "MacAlgorithms")
BOTO_SPECS = boto3.session.Session().client("kms", region_name="us-east-1").meta \
    .service_model.shape_for("KeySpec").enum
BOTO_USAGES = ("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT")


def test_spec_table_matches_the_facts():
    table = {(spec, usage): algs for spec, usages in specs.SPECS.items()
             for usage, algs in usages.items()
             if not spec.startswith(("SM2", "ML_KEM_"))}
    assert table == {pair: (field, tuple(algs)) for pair, (field, algs) in EXPECTED.items()}
    assert dict(specs.SPECS["SM2"]) == {
        u: (f, tuple(a)) for u, (f, a) in SM2_EXPECTED.items()}
    # ML-KEM specs (botocore >= 1.44) are covered by tests/test_kem.py
    assert {s for s in BOTO_SPECS if not s.startswith("ML_KEM_")} == \
        {s for s, _ in EXPECTED} | {"SM2"}


@pytest.mark.parametrize("spec,usage", sorted(EXPECTED))
def test_create_and_describe_every_pair(kms, spec, usage):
    md = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
    described = kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
    field, algorithms = EXPECTED[spec, usage]
    for meta in (md, described):
        assert (meta["KeySpec"], meta["CustomerMasterKeySpec"], meta["KeyUsage"]) == (
            spec, spec, usage)
        assert meta[field] == algorithms
        assert [f for f in ALGORITHM_FIELDS if f in meta] == [field]
        assert meta["KeyState"] == "Enabled" and meta["Origin"] == "AWS_KMS"
        assert ("CurrentKeyMaterialId" in meta) is (spec == "SYMMETRIC_DEFAULT")


@pytest.mark.parametrize("spec", sorted(s for s in BOTO_SPECS if s != "SM2"))
def test_every_unsupported_usage_is_refused(kms, spec):
    allowed = {u for s, u in EXPECTED if s == spec}
    for usage in BOTO_USAGES:
        if usage in allowed:
            continue
        with pytest.raises(ClientError) as exc:
            kms.create_key(KeySpec=spec, KeyUsage=usage)
        assert error_of(exc) == (
            "ValidationException", f"KeyUsage {usage} is not compatible with KeySpec {spec}")
    assert kms.list_keys()["Keys"] == []


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256", "ML_DSA_44", "HMAC_256"])
def test_key_usage_is_required_except_for_symmetric_keys(kms, spec):
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec=spec)
    assert error_of(exc) == ("ValidationException", "You must specify a KeyUsage value for all "
                             "KMS keys except for symmetric encryption keys.")


def test_deprecated_customer_master_key_spec_is_accepted_and_echoed(kms):
    md = kms.create_key(CustomerMasterKeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")[
        "KeyMetadata"]
    assert md["KeySpec"] == md["CustomerMasterKeySpec"] == "ECC_NIST_P384"
    assert md["SigningAlgorithms"] == ["ECDSA_SHA_384"]
    public = kms.get_public_key(KeyId=md["KeyId"])
    assert public["CustomerMasterKeySpec"] == public["KeySpec"] == "ECC_NIST_P384"
    with pytest.raises(ClientError) as exc:
        kms.create_key(CustomerMasterKeySpec="RSA_2048", KeySpec="RSA_2048",
                       KeyUsage="SIGN_VERIFY")
    assert error_of(exc)[0] == "ValidationException"


@pytest.mark.parametrize("usage", sorted(SM2_EXPECTED))
def test_sm2_outside_china_is_unsupported(kms, usage):
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="SM2", KeyUsage=usage)
    assert error_of(exc) == ("UnsupportedOperationException",
                             "KeySpec SM2 is not supported in this Region")
    assert kms.list_keys()["Keys"] == []


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1"])
def test_sm2_in_china_regions(kms_mock, region):
    kms = boto3.client("kms", region_name=region)
    for usage, (field, algorithms) in SM2_EXPECTED.items():
        md = kms.create_key(KeySpec="SM2", KeyUsage=usage)["KeyMetadata"]
        assert md["Arn"].startswith(f"arn:aws-cn:kms:{region}:")
        assert (md["KeySpec"], md["KeyUsage"], md[field]) == ("SM2", usage, algorithms)
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="SM2", KeyUsage="GENERATE_VERIFY_MAC")
    assert error_of(exc) == ("ValidationException",
                             "KeyUsage GENERATE_VERIFY_MAC is not compatible with KeySpec SM2")


def _holder(kms_mock, key_id, region="us-east-1"):
    return kms_mock.backend.store("123456789012", region).keys[key_id].asym


def test_key_material_is_lazy_and_distinct(kms, kms_mock):
    ids = [kms.create_key(KeySpec="RSA_4096", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
           for _ in range(20)]  # would take ~10 s if CreateKey generated RSA 4096 keys
    assert not any(_holder(kms_mock, i).generated for i in ids)
    a, b = (kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
            ["KeyId"] for _ in range(2))
    first = kms.get_public_key(KeyId=a)["PublicKey"]
    assert _holder(kms_mock, a).generated and not _holder(kms_mock, b).generated
    assert kms.get_public_key(KeyId=a)["PublicKey"] == first  # stable once made
    assert kms.get_public_key(KeyId=b)["PublicKey"] != first


def test_holder_hides_material_and_survives_copies(kms, kms_mock):
    from mockkms._crypto import asymmetric
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
        "KeyId"]
    holder = _holder(kms_mock, key_id)
    assert repr(holder) == "KeyPair(ECC_NIST_P256, not generated yet)"
    snapshot = kms_mock.backend.snapshot()  # taken before first use
    public = kms.get_public_key(KeyId=key_id)["PublicKey"]
    pkcs8 = holder.private_pkcs8_der()
    assert repr(holder) == "KeyPair(ECC_NIST_P256, generated)"
    assert pkcs8.hex() not in repr(holder) and str(holder) == repr(holder)
    clone = copy.deepcopy(holder)
    assert clone is not holder and clone.public_der() == public
    kms_mock.backend.restore(snapshot)  # the snapshot shares the key made after it
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] == public
    data = holder.to_dict()
    assert data["spec"] == "ECC_NIST_P256" and isinstance(data["pkcs8"], str)
    assert asymmetric.KeyPair.from_dict(data).public_der() == public
    assert pickle.loads(pickle.dumps(holder)).public_der() == public


def test_to_dict_generates_a_lazy_key_first():
    from mockkms._crypto import asymmetric
    for spec in ("ECC_NIST_EDWARDS25519", "ML_DSA_65", "ECC_SECG_P256K1"):
        holder = asymmetric.new_material(spec)
        data = holder.to_dict()
        assert holder.generated
        assert asymmetric.KeyPair.from_dict(data).public_der() == holder.public_der()
    with pytest.raises(ValueError):
        asymmetric.KeyPair.from_pkcs8("ECC_NIST_P384", holder.private_pkcs8_der())
    with pytest.raises(ValueError):
        asymmetric.KeyPair.from_pkcs8("ECC_NIST_P384", b"not der")
