"""Seeding: ``mock_kms(seed=...)`` and ``mockkms.load_seed`` preload keys from JSON or YAML, all or
nothing, with errors that name the file, the entry and the problem."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import os

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import mockkms
from mockkms import SeedError, load_seed, mock_kms

KEY_ID = "0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b"
HMAC_ID = "5f1c1a0e-2b3c-4d5e-8f90-a1b2c3d4e5f6"
AES = bytes(range(32))
HMAC_SECRET = b"\x07" * 32
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "all", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*",
     "Resource": "*"}]}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def seed_doc(**extra) -> dict:
    return {"Version": 1, "Keys": [
        {"KeyId": KEY_ID, "Description": "orders", "Aliases": ["alias/orders", "alias/o2"],
         "Tags": {"team": "payments"}, "Policy": POLICY, "KeyMaterial": b64(AES),
         "CreationDate": "2024-01-02T03:04:05Z", **extra},
        {"KeyId": HMAC_ID, "KeySpec": "HMAC_256", "KeyState": "Disabled",
         "KeyMaterial": b64(HMAC_SECRET), "Tags": [{"TagKey": "k", "TagValue": "v"}]},
        {"Account": "111122223333", "Region": "eu-west-1", "Aliases": ["alias/elsewhere"]},
    ]}


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(seed_doc()))
    return str(path)


def write(tmp_path, doc, name="bad.json") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def test_seed_preloads_keys(seed_file):
    with mock_kms(seed=seed_file):
        kms = boto3.client("kms")
        md = kms.describe_key(KeyId="alias/orders")["KeyMetadata"]
        assert (md["KeyId"], md["Description"], md["KeyState"]) == (KEY_ID, "orders", "Enabled")
        assert md["CreationDate"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        assert (md["Origin"], md["KeyManager"]) == ("AWS_KMS", "CUSTOMER")
        aliases = {a["AliasName"]: a.get("TargetKeyId")
                   for a in kms.list_aliases(KeyId=KEY_ID)["Aliases"]}
        assert aliases == {"alias/orders": KEY_ID, "alias/o2": KEY_ID}
        assert kms.list_resource_tags(KeyId=KEY_ID)["Tags"] == [
            {"TagKey": "team", "TagValue": "payments"}]
        assert json.loads(kms.get_key_policy(KeyId=KEY_ID)["Policy"]) == POLICY

        hmac_md = kms.describe_key(KeyId=HMAC_ID)["KeyMetadata"]
        assert (hmac_md["KeySpec"], hmac_md["KeyUsage"], hmac_md["KeyState"]) == (
            "HMAC_256", "GENERATE_VERIFY_MAC", "Disabled")
        assert "Statement" in json.loads(kms.get_key_policy(KeyId=HMAC_ID)["Policy"])
        assert len(kms.list_keys()["Keys"]) == 2

        other = boto3.client("kms", region_name="eu-west-1", aws_access_key_id="111122223333",
                             aws_secret_access_key="x")
        md = other.describe_key(KeyId="alias/elsewhere")["KeyMetadata"]
        assert md["Arn"].startswith("arn:aws:kms:eu-west-1:111122223333:key/")


def test_ciphertext_of_one_run_decrypts_in_the_next(seed_file):
    with mock_kms(seed=seed_file):
        out = boto3.client("kms").encrypt(KeyId="alias/orders", Plaintext=b"kept",
                                          EncryptionContext={"order": "1"})
    with mock_kms(seed=seed_file):
        kms = boto3.client("kms")
        dec = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"order": "1"})
        assert dec["Plaintext"] == b"kept" and dec["KeyId"] == out["KeyId"]
        assert dec["KeyMaterialId"] == kms.describe_key(KeyId=KEY_ID)["KeyMetadata"][
            "CurrentKeyMaterialId"]


def test_seeded_material_is_the_key_material(seed_file):
    with mock_kms(seed=seed_file):
        kms = boto3.client("kms")
        kms.enable_key(KeyId=HMAC_ID)
        mac = kms.generate_mac(KeyId=HMAC_ID, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
        assert mac == hmac.new(HMAC_SECRET, b"m", hashlib.sha256).digest()


def test_hmac_material_up_to_the_block_size(kms_mock):
    secret = os.urandom(64)
    (key,) = load_seed({"Version": 1, "Keys": [{"KeySpec": "HMAC_256",
                                                "KeyMaterial": b64(secret)}]})
    mac = boto3.client("kms").generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert mac["Mac"] == hmac.new(secret, b"m", hashlib.sha256).digest()


def test_different_material_does_not_decrypt(seed_file, tmp_path):
    with mock_kms(seed=seed_file):
        blob = boto3.client("kms").encrypt(KeyId=KEY_ID, Plaintext=b"x")["CiphertextBlob"]
    doc = seed_doc(KeyMaterial=b64(bytes(32)))
    with mock_kms(seed=write(tmp_path, doc, "other.json")):
        kms = boto3.client("kms")
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.decrypt(CiphertextBlob=blob)


def test_asymmetric_material(tmp_path, kms_mock):
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    ids = load_seed(write(tmp_path, {"Version": 1, "Keys": [
        {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY", "KeyMaterial": b64(der)}]}))
    key = kms_mock.backend.store("123456789012", "us-east-1").keys[ids[0]]
    assert key.asym.public_der() == private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    kms = boto3.client("kms")
    assert kms.get_public_key(KeyId=ids[0])["PublicKey"] == key.asym.public_der()
    assert kms.describe_key(KeyId=ids[0])["KeyMetadata"]["SigningAlgorithms"] == ["ECDSA_SHA_256"]
    signature = kms.sign(KeyId=ids[0], Message=b"msg", SigningAlgorithm="ECDSA_SHA_256")
    private.public_key().verify(signature["Signature"], b"msg", ec.ECDSA(hashes.SHA256()))


def test_yaml_seed(tmp_path):
    path = write(tmp_path, f"""
Version: 1
Keys:
  - KeyId: {KEY_ID}
    Account: 210987654321       # unquoted: YAML reads a number
    Aliases: [alias/yaml]
    KeyMaterial: {b64(AES)}
    CreationDate: 2024-05-06T07:08:09Z
    Policy: |
      {{"Statement": [{{"Effect": "Allow", "Action": "kms:*", "Principal": "*", "Resource": "*"}}]}}
""", "keys.yaml")
    with mock_kms(seed=path, account_id="210987654321"):
        md = boto3.client("kms").describe_key(KeyId="alias/yaml")["KeyMetadata"]
        assert md["AWSAccountId"] == "210987654321"
        assert md["CreationDate"] == dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)


def test_load_seed_into_the_active_mock(kms_mock, kms, seed_file, tmp_path):
    existing = kms.create_key()["KeyMetadata"]["KeyId"]
    ids = mockkms.load_seed(seed_file)
    assert ids[:2] == [KEY_ID, HMAC_ID] and len(ids) == 3
    assert {k["KeyId"] for k in kms.list_keys()["Keys"]} == {existing, KEY_ID, HMAC_ID}
    # a mapping works as well; account and region may be given
    (new,) = load_seed({"Version": 1, "Keys": [{"Description": "d"}]},
                       account_id="999999999999", region="us-west-2")
    key = kms_mock.backend.store("999999999999", "us-west-2").keys[new]
    assert key.description == "d" and key.current is not None
    assert load_seed({"Version": 1}) == []


def test_load_seed_into_a_backend(seed_file):
    from mockkms._backend import Backend

    backend = Backend()
    load_seed(seed_file, backend=backend, account_id="222233334444", region="eu-south-1")
    assert set(backend.store("222233334444", "eu-south-1").keys) == {KEY_ID, HMAC_ID}
    assert set(backend.stores) == {("222233334444", "eu-south-1"), ("111122223333", "eu-west-1")}


def test_load_seed_needs_a_mock_or_backend(seed_file):
    with pytest.raises(RuntimeError, match="needs an active mock_kms"):
        load_seed(seed_file)


def test_decorated_function_gets_the_seed_each_time(seed_file):
    @mock_kms(seed=seed_file)
    def use():
        kms = boto3.client("kms")
        kms.schedule_key_deletion(KeyId=KEY_ID, PendingWindowInDays=7)
        return len(kms.list_keys()["Keys"])

    assert use() == use() == 2


def _bad_entries():
    ok = {"KeyId": KEY_ID}
    return [
        ({**ok, "Colour": "blue"}, "Keys[0] (KeyId 0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b): "
         "unknown field(s) Colour (allowed: KeyId, Account, Region"),
        ({"KeyId": "not-a-uuid"}, "Keys[0] (KeyId not-a-uuid): KeyId 'not-a-uuid' must be a "
         "lowercase UUID"),
        ({"KeyId": 42}, "Keys[0]: KeyId must be a string, got int"),
        ({"KeySpec": "AES_128"}, "Keys[0]: KeySpec 'AES_128' is not one of SYMMETRIC_DEFAULT"),
        ({"KeySpec": "RSA_2048"}, "Keys[0]: KeyUsage is required for KeySpec RSA_2048 "
         "(one of ENCRYPT_DECRYPT, SIGN_VERIFY)"),
        ({"KeySpec": "HMAC_256", "KeyUsage": "ENCRYPT_DECRYPT"},
         "Keys[0]: KeyUsage 'ENCRYPT_DECRYPT' is not compatible with KeySpec HMAC_256"),
        ({"KeySpec": "SM2", "KeyUsage": "SIGN_VERIFY"},
         "Keys[0]: KeySpec SM2 exists only in the China Regions, not in us-east-1"),
        ({"KeyState": "PendingDeletion"},
         "Keys[0]: KeyState 'PendingDeletion' must be Enabled or Disabled"),
        ({"Aliases": ["orders"]}, 'Keys[0]: alias orders: ValidationException: Alias must start '
         'with the prefix "alias/".'),
        ({"Aliases": ["alias/aws/s3"]},
         "Keys[0]: alias alias/aws/s3: the alias/aws/ prefix is reserved for AWS"),
        ({"Aliases": ["alias/bad!"]}, "Keys[0]: alias 'alias/bad!' must be 1 to 256 characters"),
        ({"Aliases": "alias/x"}, "Keys[0]: Aliases must be a list of alias names"),
        ({"Tags": {"aws:x": "1"}},
         "Keys[0]: Tags: TagException: Tags beginning with aws: are reserved"),
        ({"Tags": ["a"]}, "Keys[0]: Tags must be an object {key: value} or a list of"),
        ({"Tags": {"k": 1}}, "Keys[0]: the value of tag k must be a string"),
        ({"Tags": {"k" * 129: "v"}},
         f"Keys[0]: tag key {'k' * 129!r} must be a string of 1 to 128 characters"),
        ({"Tags": {"": "v"}}, "Keys[0]: tag key '' must be a string of 1 to 128 characters"),
        ({"Tags": {"k": "v" * 257}},
         "Keys[0]: the value of tag k must be a string of at most 256 characters"),
        ({"Aliases": ["alias/" + "a" * 251]},
         f"Keys[0]: alias {'alias/' + 'a' * 251!r} must be 1 to 256 characters of a-z A-Z"),
        ({"CreationDate": [2024]}, "Keys[0]: CreationDate must be ISO 8601 text or epoch seconds"),
        ({"Policy": {"Statement": []}}, "Keys[0]: Policy: MalformedPolicyDocumentException"),
        ({"Policy": 7}, "Keys[0]: Policy must be a policy object or its JSON text"),
        ({"KeyMaterial": b64(bytes(16))},
         "Keys[0]: KeyMaterial for SYMMETRIC_DEFAULT must be 32 bytes, got 16"),
        ({"KeySpec": "HMAC_384", "KeyMaterial": b64(bytes(32))},
         "Keys[0]: KeyMaterial for HMAC_384 must be 48 to 128 bytes, got 32"),
        ({"KeyMaterial": "***"}, "Keys[0]: KeyMaterial is not valid base64"),
        ({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY", "KeyMaterial": b64(b"junk")},
         "Keys[0]: KeyMaterial for ECC_NIST_P256 must be a PKCS#8 DER private key of that spec"),
        ({"Account": "12"}, "Keys[0]: Account '12' must be 12 digits"),
        ({"Region": "mars"}, "Keys[0]: Region 'mars' is not a region name"),
        ({"CreationDate": "yesterday"}, "Keys[0]: CreationDate 'yesterday' is not ISO 8601"),
        ({"Description": "x" * 8193}, "Keys[0]: Description is longer than 8192 characters"),
        ("key", "Keys[0]: each key must be an object"),
    ]


@pytest.mark.parametrize("entry, message", _bad_entries())
def test_malformed_entries(tmp_path, kms_mock, entry, message):
    path = write(tmp_path, {"Version": 1, "Keys": [entry]})
    with pytest.raises(SeedError) as exc:
        load_seed(path)
    assert str(exc.value).startswith(f"{path}: {message}")
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON: "),
    ('{"Keys": []}', "Version must be 1, got None"),
    ('{"Version": 2, "Keys": []}', "Version must be 1, got 2"),
    ('{"Version": 1, "Keys": {}}', "Keys must be a list"),
    ('{"Version": 1, "Key": []}',
     "unknown top-level field(s) Key (expected Version, Keys, Principals and Authorization)"),
    ("[1, 2]", "a seed must be an object with Version and Keys"),
])
def test_malformed_files(tmp_path, kms_mock, content, message):
    path = write(tmp_path, content)
    with pytest.raises(SeedError) as exc:
        load_seed(path)
    assert str(exc.value).startswith(f"{path}: {message}")


def test_unreadable_and_bad_yaml_files(tmp_path, kms_mock):
    missing = str(tmp_path / "missing.json")
    with pytest.raises(SeedError, match=f"^{missing}: cannot read the seed file: No such file"):
        load_seed(missing)
    bad = write(tmp_path, "Version: [1\n", "bad.yml")
    with pytest.raises(SeedError, match=f"^{bad}: not valid YAML: "):
        load_seed(bad)


def test_nothing_is_half_loaded(tmp_path, kms_mock, kms):
    doc = seed_doc()
    doc["Keys"].append({"KeyId": HMAC_ID})  # the fourth entry repeats a KeyId
    path = write(tmp_path, doc)
    with pytest.raises(SeedError) as exc:
        load_seed(path)
    assert str(exc.value) == (f"{path}: Keys[3] (KeyId {HMAC_ID}): KeyId {HMAC_ID} is also used "
                              f"by Keys[1] (KeyId {HMAC_ID})")
    doc["Keys"][3] = {"Aliases": ["alias/orders"]}
    taken_twice = r"Keys\[3\]: alias alias/orders is also given to Keys\[0\]"
    with pytest.raises(SeedError, match=taken_twice):
        load_seed(write(tmp_path, doc))
    assert kms.list_keys()["Keys"] == [] and kms.list_aliases()["Aliases"] == [
        a for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")]
    assert kms_mock.backend.store("111122223333", "eu-west-1").keys == {}


def test_conflicts_with_existing_state(seed_file, kms_mock, kms):
    load_seed(seed_file)
    with pytest.raises(SeedError) as exc:
        load_seed(seed_file)
    assert str(exc.value) == (f"{seed_file}: Keys[0] (KeyId {KEY_ID}): key "
                              f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID} already exists")
    kms.create_alias(AliasName="alias/taken", TargetKeyId=KEY_ID)
    with pytest.raises(SeedError, match=r"Keys\[0\]: alias arn:aws:kms:us-east-1:123456789012:"
                                        r"alias/taken already exists"):
        load_seed({"Version": 1, "Keys": [{"Aliases": ["alias/taken"]}]})
    assert len(kms.list_keys()["Keys"]) == 2


def test_bad_seed_leaves_no_mock_running(tmp_path):
    before = dict(os.environ)
    m = mock_kms(seed=write(tmp_path, {"Version": 1, "Keys": [{"KeyState": "Gone"}]}))
    with pytest.raises(SeedError, match="KeyState 'Gone' must be Enabled or Disabled"):
        m.start()
    assert not m.active and dict(os.environ) == before
    assert not mockkms._mock._stack


# --- CreationDate: finite and within what botocore can read ---------------------------------------

@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, 1e20,
                                   pytest.param(10 ** 400, id="10**400"),
                                   "0001-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00"])
def test_seed_creation_date_out_of_range_is_refused(value):
    doc = {"Version": 1, "Keys": [{"CreationDate": value}]}
    with mock_kms():
        with pytest.raises(SeedError) as exc:
            load_seed(doc)
        assert boto3.client("kms", region_name="us-east-1").list_keys()["Keys"] == []
    assert str(exc.value) == (f"<seed mapping>: Keys[0]: CreationDate {value!r} must be a date "
                              "from 1970-01-01 to 9999-12-31 (ISO 8601 text or finite epoch "
                              "seconds)")


def test_seed_creation_date_at_the_limits_is_readable():
    latest = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    doc = {"Version": 1, "Keys": [{"CreationDate": latest.timestamp()}, {"CreationDate": 0}]}
    with mock_kms():
        late, early = load_seed(doc)
        kms = boto3.client("kms", region_name="us-east-1")
        assert kms.describe_key(KeyId=late)["KeyMetadata"]["CreationDate"] == latest
        assert kms.describe_key(KeyId=early)["KeyMetadata"]["CreationDate"] == \
            dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
