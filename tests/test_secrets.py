"""Secrets stay secret: plaintexts, data keys and key material never appear in the mock's log
output, in error messages or in the ``repr()`` of its internal objects.

Scope: the ``mockkms`` loggers. botocore itself logs whole request and response bodies at DEBUG
(plaintexts included, base64-encoded); the mock cannot control that, so it is not asserted here
(see docs/guarantees.md).
"""
from __future__ import annotations

import base64
import json
import logging

import boto3
import botocore.config
import botocore.session
import pytest
from botocore.exceptions import ClientError

from mockkms import _dispatch, mock_kms

REGION = "us-east-1"
ACCOUNT = "123456789012"
PLAINTEXT = b"TOP-SECRET-PLAINTEXT-7f3a9c"
PASSWORD = "hunter2-keystore-password"
XKS_SECRET = "S3cretS3cretS3cretS3cretS3cretS3cretS3cret0"


def forms(secret: bytes) -> list[str]:
    """The ways a secret could show up in text."""
    out = [base64.b64encode(secret).decode(), secret.hex(), repr(secret)[2:-1]]
    try:
        out.append(secret.decode())
    except UnicodeDecodeError:
        pass
    return [f for f in out if len(f) >= 8]


def assert_hidden(text: str, secrets: list[bytes], what: str) -> None:
    for secret in secrets:
        for form in forms(secret):
            assert form not in text, f"a secret appears in {what}: {text[:300]}"


def state_objects(backend):
    """Every object the backend holds for keys: keys, material versions, asymmetric holders,
    import state, grants, custom key stores, aliases."""
    for store in backend.stores.values():
        for key in store.keys.values():
            yield key
            yield from key.materials
            if key.asym is not None:
                yield key.asym
            if key.import_state is not None:
                yield key.import_state
        yield from store.grants.values()
        yield from store.custom_key_stores.values()
        yield from store.aliases.values()


def state_secrets(backend) -> list[bytes]:
    """Key material held by the backend: symmetric/HMAC versions and asymmetric private keys."""
    out = []
    for store in backend.stores.values():
        for key in store.keys.values():
            out += [m.secret for m in key.materials if m.secret]
            if key.asym is not None and getattr(key.asym, "generated", False):
                out.append(key.asym.private_pkcs8_der())
    return out


def _try(fn, **kwargs):
    try:
        return fn(**kwargs)
    except ClientError:
        return None


def full_session(kms) -> list[bytes]:
    """Encrypt/decrypt/generate-data-key (and what else exists) with errors on the way; the
    secrets that went over the wire."""
    secrets = [PLAINTEXT]
    key = kms.create_key(Description="secrets")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=PLAINTEXT,
                       EncryptionContext={"app": "secrets"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob,
                       EncryptionContext={"app": "secrets"})["Plaintext"] == PLAINTEXT
    with pytest.raises(ClientError):
        kms.decrypt(CiphertextBlob=blob)  # wrong context
    with pytest.raises(ClientError):
        kms.decrypt(CiphertextBlob=blob[:-1] + bytes([blob[-1] ^ 1]),
                    EncryptionContext={"app": "secrets"})
    data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    secrets.append(data_key["Plaintext"])
    kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])
    kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"app": "secrets"},
                   DestinationKeyId=key)
    secrets.append(kms.generate_random(NumberOfBytes=32)["Plaintext"])
    pair = _try(kms.generate_data_key_pair, KeyId=key, KeyPairSpec="ECC_NIST_P256")
    if pair:
        secrets.append(pair["PrivateKeyPlaintext"])
    for spec, usage in (("RSA_2048", "ENCRYPT_DECRYPT"), ("ECC_NIST_P256", "SIGN_VERIFY"),
                        ("HMAC_256", "GENERATE_VERIFY_MAC")):
        out = _try(kms.create_key, KeySpec=spec, KeyUsage=usage)
        if out is None:
            continue
        other = out["KeyMetadata"]["KeyId"]
        if usage == "ENCRYPT_DECRYPT":
            rsa_blob = kms.encrypt(KeyId=other, Plaintext=PLAINTEXT,
                                   EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
            kms.decrypt(KeyId=other, CiphertextBlob=rsa_blob,
                        EncryptionAlgorithm="RSAES_OAEP_SHA_256")
        elif usage == "SIGN_VERIFY":
            _try(kms.sign, KeyId=other, Message=PLAINTEXT, SigningAlgorithm="ECDSA_SHA_256")
        else:
            _try(kms.generate_mac, KeyId=other, Message=PLAINTEXT, MacAlgorithm="HMAC_SHA_256")
    with pytest.raises(ClientError):
        kms.encrypt(KeyId=key, Plaintext=PLAINTEXT * 200)  # over 4096: validation error
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "secrets"})
    return secrets


def test_no_secret_in_the_mocks_log_output(caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)  # every logger, botocore's included
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name=REGION)
        secrets = full_session(kms)
        # an internal error is logged with its traceback: the request's plaintext stays out
        real = _dispatch.HANDLERS["Encrypt"]

        def broken(ctx, params):
            raise RuntimeError("handler bug")
        monkeypatch.setitem(_dispatch.HANDLERS, "Encrypt", broken)
        with pytest.raises(ClientError), mock.via_service("s3"):  # AWS managed keys: usable
            boto3.client("kms", region_name=REGION, config=botocore.config.Config(  # through
                retries={"total_max_attempts": 1})).encrypt(  # their service only; a key that
                KeyId="alias/aws/s3", Plaintext=PLAINTEXT)    # exists: the handler runs after
        monkeypatch.setitem(_dispatch.HANDLERS, "Encrypt", real)
        secrets += state_secrets(mock.backend)
    ours = [r for r in caplog.records if r.name == "mockkms" or r.name.startswith("mockkms.")]
    assert ours, "the internal error was not logged: the capture does not work"
    for record in ours:
        text = record.getMessage() + repr(record.args)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        assert_hidden(text, secrets, f"log record {record.name}")
    # botocore's DEBUG output does carry the plaintext: it is out of the mock's hands
    assert any(base64.b64encode(PLAINTEXT).decode() in r.getMessage() for r in caplog.records
               if r.name.startswith("botocore"))


def test_validation_message_drops_the_plaintext(kms):
    big = b"S" * 4097
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId="alias/whatever", Plaintext=big)
    err = exc.value.response["Error"]
    assert err["Code"] == "ValidationException"
    assert err["Message"] == ("1 validation error detected: Value at 'plaintext' failed to "
                              "satisfy constraint: Member must have length less than or equal "
                              "to 4096")
    assert "SSSSSSSS" not in str(exc.value)


def _sensitive_members(shape, path=""):
    """(path, member shape, builder) of every sensitive member: builder(value) -> body dict."""
    for name, member in shape.members.items():
        camel = name[:1].lower() + name[1:]
        here = f"{path}.{camel}" if path else camel
        if member.metadata.get("sensitive") and member.type_name in ("string", "blob"):
            yield here, member, (lambda v, n=name: {n: v})
        elif member.type_name == "structure":
            for sub_path, sub, build in _sensitive_members(member, here):
                yield sub_path, sub, (lambda v, n=name, b=build: {n: b(v)})


def _sensitive_cases():
    model = botocore.session.get_session().get_service_model("kms")
    for op in model.operation_names:
        shape = model.operation_model(op).input_shape
        if shape is None:
            continue
        for path, member, build in _sensitive_members(shape):
            yield pytest.param(op, path, member, build, id=f"{op}.{path}")


@pytest.mark.parametrize("operation,path,member,build", list(_sensitive_cases()))
def test_every_sensitive_member_is_dropped_from_messages(operation, path, member, build):
    """Every member the model marks sensitive, too long and too short, never echoes its value."""
    lo, hi = member.metadata.get("min", 0), member.metadata.get("max")
    marker = "ZQXJ"  # survives base64 decoding below
    values = []
    if hi is not None:
        values.append(("long", marker * (hi // 4 + 2)))
    if lo and lo > 1:
        values.append(("short", marker[:max(lo - 1, 1)]))
    assert values
    with mock_kms() as mock:
        for kind, value in values:
            raw = base64.b64encode(value.encode()).decode() if member.type_name == "blob" \
                else value
            body = json.dumps(build(raw)).encode()
            status, payload = _dispatch.handle(mock.backend, ACCOUNT, REGION,
                                               "TrentService." + operation, body)
            doc = json.loads(payload)
            assert status == 400 and doc["__type"] == "ValidationException", (kind, doc)
            assert f"Value at '{path}' failed to satisfy constraint" in doc["message"], doc
            assert marker not in doc["message"] and raw not in doc["message"], doc


def test_decrypt_errors_never_echo_plaintext_or_material(kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=PLAINTEXT,
                       EncryptionContext={"k": "v"})["CiphertextBlob"]
    attempts = [
        dict(CiphertextBlob=blob),                                         # context missing
        dict(CiphertextBlob=blob, EncryptionContext={"k": "w"}),           # wrong context
        dict(CiphertextBlob=blob, EncryptionContext={"k": "v"}, KeyId=other),  # wrong key
        dict(CiphertextBlob=blob[:-3], EncryptionContext={"k": "v"}),      # truncated
        dict(CiphertextBlob=blob, EncryptionContext={"k": "v"},
             EncryptionAlgorithm="RSAES_OAEP_SHA_256"),                    # wrong algorithm
        dict(CiphertextBlob=PLAINTEXT * 3),                                # not a ciphertext
    ]
    secrets = [PLAINTEXT] + state_secrets(kms_mock.backend)
    for params in attempts:
        with pytest.raises(ClientError) as exc:
            kms.decrypt(**params)
        assert_hidden(str(exc.value) + json.dumps(exc.value.response, default=str), secrets,
                      f"Decrypt error {exc.value.response['Error']['Code']}")
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})
    assert_hidden(str(exc.value), secrets, "DisabledException")


def test_reprs_never_show_material(kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    full_session(kms)
    _try(kms.create_custom_key_store, CustomKeyStoreName="secrets-xks",
         CustomKeyStoreType="EXTERNAL_KEY_STORE",
         XksProxyUriEndpoint="https://xks.example.com", XksProxyUriPath="/kms/xks/v1",
         XksProxyConnectivity="PUBLIC_ENDPOINT",
         XksProxyAuthenticationCredential={"AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
                                           "RawSecretAccessKey": XKS_SECRET})
    _try(kms.create_custom_key_store, CustomKeyStoreName="secrets-hsm",
         CloudHsmClusterId="cluster-1a23b4cdefg", KeyStorePassword=PASSWORD,
         TrustAnchorCertificate="-----BEGIN CERTIFICATE-----x-----END CERTIFICATE-----")
    backend = kms_mock.backend
    secrets = [PLAINTEXT, PASSWORD.encode(), XKS_SECRET.encode()] + state_secrets(backend)
    objects = list(state_objects(backend))
    kinds = {type(o).__name__ for o in objects}
    assert {"Key", "Material"} <= kinds
    for obj in objects:
        text = repr(obj) + str(obj)
        assert_hidden(text, secrets, f"repr of {type(obj).__name__}")
        assert "PRIVATE KEY" not in text and len(text) < 400, text
    calls = list(kms_mock.calls)
    assert any("Plaintext" in (c.params or {}) for c in calls)
    for call in calls:
        assert_hidden(repr(call) + str(call), secrets, "repr of a Call")
    assert_hidden(repr(kms_mock.calls), secrets, "repr of the call log")
