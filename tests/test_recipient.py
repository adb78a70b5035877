"""Recipient (Nitro Enclaves attestation documents): the secret comes back only as
CiphertextForRecipient, a CMS EnvelopedData that the enclave's RSA key opens. The tests build
their own attestation documents (CBOR, COSE_Sign1 signed with ES384) and open the envelope with
their own BER reader."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from helpers import error_of


# --- a tiny CBOR encoder and a COSE_Sign1 attestation document -------------------------------
def cbor(value) -> bytes:
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(value)


@pytest.fixture(scope="module")
def enclave():
    """The enclave's RSA key pair and the (NSM stand-in) P-384 signing key and certificate."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "i-0123.enclave")])
    now = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(signer.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(signer, hashes.SHA384()))
    return rsa_key, signer, cert.public_bytes(serialization.Encoding.DER)


def attestation(enclave, *, public_key=None, sign=True, tamper=False, tag=False,
                extra=None, alg=-35, pcrs=None, nitrotpm_pcrs=None) -> bytes:
    """A Nitro Enclaves attestation document (its ``pcrs``: PCR0 and PCR1 all zeros unless
    given), or a NitroTPM one when ``nitrotpm_pcrs`` is given (then it has no ``pcrs``)."""
    rsa_key, signer, cert = enclave
    if public_key is None:
        public_key = rsa_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    measured = {"nitrotpm_pcrs": nitrotpm_pcrs} if nitrotpm_pcrs is not None else {
        "pcrs": pcrs if pcrs is not None else {0: b"\x00" * 48, 1: b"\x00" * 48}}
    fields = {"module_id": "i-0123-enc0123", "digest": "SHA384", "timestamp": 1700000000000,
              **measured, "cabundle": [cert],
              "public_key": public_key, "user_data": None, "nonce": None}
    if sign:
        fields["certificate"] = cert
    fields.update(extra or {})
    protected = cbor({1: alg})  # alg: ES384
    payload = cbor(fields)
    to_sign = cbor(["Signature1", protected, b"", payload])
    r, s = utils.decode_dss_signature(signer.sign(to_sign, ec.ECDSA(hashes.SHA384())))
    signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    if tamper:
        payload = payload.replace(b"i-0123-enc0123", b"i-9999-enc9999")
    document = cbor([protected, {}, payload, signature])
    return (b"\xd2" + document) if tag else document  # tag 18 = COSE_Sign1


def recipient(enclave, **kw):
    return {"AttestationDocument": attestation(enclave, **kw),
            "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}


# --- opening CiphertextForRecipient (BER, as the Nitro Enclaves SDK reads it) ---------------
def ber(data: bytes, pos: int = 0):
    """(tag, content or list of children, end position) of the BER element at ``pos``."""
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first == 0x80:  # indefinite length: children until end-of-contents
        children = []
        while data[pos:pos + 2] != b"\x00\x00":
            child = ber(data, pos)
            children.append(child[:2])
            pos = child[2]
        return tag, children, pos + 2
    if first & 0x80:
        n = first & 0x7F
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    else:
        length = first
    content = data[pos:pos + length]
    if tag & 0x20:  # constructed, definite
        children, at = [], 0
        while at < len(content):
            child = ber(content, at)
            children.append(child[:2])
            at = child[2]
        return tag, children, pos + length
    return tag, content, pos + length


def oid(content: bytes) -> str:
    parts, acc = [content[0] // 40, content[0] % 40], 0
    for b in content[1:]:
        acc = acc << 7 | (b & 0x7F)
        if not b & 0x80:
            parts.append(acc)
            acc = 0
    return ".".join(map(str, parts))


def open_envelope(blob: bytes, rsa_key) -> bytes:
    tag, (content_type, wrapper), end = ber(blob)
    assert tag == 0x30 and end == len(blob)
    assert oid(content_type[1]) == "1.2.840.113549.1.7.3"  # id-envelopedData
    assert wrapper[0] == 0xA0
    (_, (version, recipient_infos, encrypted_content_info)), = wrapper[1]
    assert version == (0x02, b"\x02")
    (_, (ri_version, rid, key_algorithm, encrypted_key)), = recipient_infos[1]
    assert ri_version == (0x02, b"\x02")
    public_bits = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.PKCS1)
    assert rid == (0x80, hashlib.sha1(public_bits).digest())  # subjectKeyIdentifier
    assert oid(key_algorithm[1][0][1]) == "1.2.840.113549.1.1.7"  # RSAES-OAEP
    params = key_algorithm[1][1][1]
    assert oid(params[0][1][0][1][0][1]) == "2.16.840.1.101.3.4.2.1"  # hashFunc sha256
    assert oid(params[1][1][0][1][0][1]) == "1.2.840.113549.1.1.8"  # maskGenFunc mgf1
    data_type, (_, (cipher_oid, iv)), (content_tag, encrypted) = encrypted_content_info[1]
    assert oid(data_type[1]) == "1.2.840.113549.1.7.1"
    assert oid(cipher_oid[1]) == "2.16.840.1.101.3.4.1.42"  # aes256-CBC
    assert content_tag == 0x80
    content_key = rsa_key.decrypt(encrypted_key[1], padding.OAEP(
        mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    decryptor = Cipher(algorithms.AES(content_key), modes.CBC(iv[1])).decryptor()
    padded = decryptor.update(encrypted) + decryptor.finalize()
    unpadder = sym_padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


# --- the operations ---------------------------------------------------------------------------
def test_generate_random(kms, enclave):
    out = kms.generate_random(NumberOfBytes=48, Recipient=recipient(enclave))
    assert "Plaintext" not in out
    assert len(open_envelope(out["CiphertextForRecipient"], enclave[0])) == 48


def test_generate_data_key(kms, key_id, enclave):
    out = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", Recipient=recipient(enclave),
                                EncryptionContext={"purpose": "enclave"})
    assert "Plaintext" not in out
    data_key = open_envelope(out["CiphertextForRecipient"], enclave[0])
    assert len(data_key) == 32
    again = kms.decrypt(CiphertextBlob=out["CiphertextBlob"],
                        EncryptionContext={"purpose": "enclave"})
    assert again["Plaintext"] == data_key


def test_decrypt(kms, key_id, enclave):
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"for the enclave only")["CiphertextBlob"]
    out = kms.decrypt(CiphertextBlob=blob, Recipient=recipient(enclave, tag=True))
    assert "Plaintext" not in out and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert out["KeyId"] == kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert open_envelope(out["CiphertextForRecipient"], enclave[0]) == b"for the enclave only"
    # two seals of the same plaintext differ (fresh content key and IV)
    other = kms.decrypt(CiphertextBlob=blob, Recipient=recipient(enclave))
    assert other["CiphertextForRecipient"] != out["CiphertextForRecipient"]


def test_generate_data_key_pair(kms, key_id, enclave):
    out = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256",
                                     Recipient=recipient(enclave))
    assert "PrivateKeyPlaintext" not in out
    private = serialization.load_der_private_key(
        open_envelope(out["CiphertextForRecipient"], enclave[0]), password=None)
    assert private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == \
        out["PublicKey"]


def test_derive_shared_secret(kms, enclave):
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    peer = ec.generate_private_key(ec.SECP256R1())
    out = kms.derive_shared_secret(
        KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", Recipient=recipient(enclave),
        PublicKey=peer.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert "SharedSecret" not in out
    kms_public = serialization.load_der_public_key(
        kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    assert open_envelope(out["CiphertextForRecipient"], enclave[0]) == \
        peer.exchange(ec.ECDH(), kms_public)


def test_unsigned_document_is_accepted(kms, enclave):
    out = kms.generate_random(NumberOfBytes=8, Recipient=recipient(enclave, sign=False))
    assert len(open_envelope(out["CiphertextForRecipient"], enclave[0])) == 8


def test_pkcs1_public_key_is_accepted(kms, enclave):
    pkcs1 = enclave[0].public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.PKCS1)
    out = kms.generate_random(NumberOfBytes=8, Recipient=recipient(enclave, public_key=pkcs1))
    assert len(open_envelope(out["CiphertextForRecipient"], enclave[0])) == 8


def _refused(kms, recipient_param, reason):
    with pytest.raises(ClientError) as exc:
        kms.generate_random(NumberOfBytes=8, Recipient=recipient_param)
    assert error_of(exc) == ("ValidationException",
                             f"The attestation document in Recipient is not valid: {reason}.")


def test_bad_documents(kms, enclave):
    _refused(kms, recipient(enclave, tamper=True), "its signature does not verify")
    _refused(kms, {"AttestationDocument": b"\xff\x00"}, "it is not well-formed CBOR")
    _refused(kms, {"AttestationDocument": cbor([1, 2, 3])}, "it is not a COSE_Sign1 structure")
    _refused(kms, {"AttestationDocument": cbor([b"", {}, cbor([1]), b""])},
             "its payload is not a CBOR map")
    _refused(kms, recipient(enclave, extra={"public_key": None}), "it has no public_key")
    _refused(kms, recipient(enclave, public_key=b"not a key"),
             "its public_key is not a DER RSA public key")
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    _refused(kms, recipient(enclave, public_key=ec_public), "its public_key is not an RSA key")
    _refused(kms, recipient(enclave, extra={"certificate": b"junk"}),
             "its certificate is not a DER X.509 certificate")
    for alg in (-8, [1], {"a": 1}):  # EdDSA; values of other CBOR types (a list does not hash)
        _refused(kms, recipient(enclave, alg=alg),
                 "its COSE algorithm is not ES256, ES384 or ES512")


def test_missing_document(kms):
    with pytest.raises(ClientError) as exc:
        kms.generate_random(NumberOfBytes=8,
                            Recipient={"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"})
    assert error_of(exc) == ("ValidationException",
                             "Recipient must include an AttestationDocument.")


def test_unknown_key_encryption_algorithm(kms, enclave):
    with pytest.raises(ClientError) as exc:
        kms.generate_random(NumberOfBytes=8, Recipient={
            "AttestationDocument": attestation(enclave), "KeyEncryptionAlgorithm": "RSA_PKCS1"})
    code, message = error_of(exc)
    assert code == "ValidationException" and "keyEncryptionAlgorithm" in message


def test_refused_document_changes_nothing(kms, key_id, enclave):
    kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    before = kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]
    with pytest.raises(ClientError):
        kms.decrypt(CiphertextBlob=kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"],
                    Recipient=recipient(enclave, tamper=True))
    after = kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]
    assert after["Operation"] == "Encrypt"  # the refused Decrypt did not count as a use
    assert before["Operation"] == "GenerateDataKey"


# --- Recipient is checked before DryRun -----------------------------------------------------------

def test_generate_data_key_pair_checks_recipient_before_dry_run(kms, key_id):
    bad = {"AttestationDocument": b"garbage", "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}
    with pytest.raises(ClientError) as gdk:
        kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", Recipient=bad, DryRun=True)
    with pytest.raises(ClientError) as gdkp:
        kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256", Recipient=bad,
                                   DryRun=True)
    assert error_of(gdk)[0] != "DryRunOperationException"
    assert error_of(gdkp) == error_of(gdk)


# --- kms:RecipientAttestation:* condition keys (authz facts §7) ---------------------------------
ROOT = "arn:aws:iam::123456789012:root"
IMAGE = bytes(range(48))                  # PCR0: the enclave image's SHA-384
OTHER_IMAGE = bytes(range(1, 49))
SIGNER = hashlib.sha384(b"signing certificate").digest()  # PCR8


def _attested(kms_mock, kms, condition, action=("kms:Decrypt", "kms:GenerateDataKey",
                                                "kms:GenerateDataKeyPair"), **key_args):
    """(session, key ARN): a key whose policy lets the enclave role's session use ``action``
    only under ``condition`` (and the root everything), as the Nitro Enclaves guide shows."""
    from helpers import document, statement
    role = kms_mock.principal("role/enclave")
    key = kms.create_key(Policy=document(
        statement(principal=ROOT),
        statement(principal=role.arn, action=list(action), condition=condition)),
        **key_args)["KeyMetadata"]
    return role.assume("enclave"), key["Arn"]


def _denied(session, action, resource, why="identity"):
    """AWS's denial text; the key policy's root statement applies to the session (through its
    account), so the message names the identity policies (docs/authorization.md)."""
    from helpers import denied
    return denied(session.arn, action, resource, why)


def _raises(expected, call, **kwargs):
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    assert error_of(exc) == expected


def test_image_sha384_decides_decrypt(kms_mock, kms, enclave):
    session, key = _attested(kms_mock, kms, {"StringEqualsIgnoreCase": {
        "kms:RecipientAttestation:ImageSha384": IMAGE.hex().upper()}})
    client = session.client()
    blob = kms.encrypt(KeyId=key, Plaintext=b"enclave secret")["CiphertextBlob"]
    out = client.decrypt(CiphertextBlob=blob, Recipient=recipient(enclave, pcrs={0: IMAGE}))
    assert open_envelope(out["CiphertextForRecipient"], enclave[0]) == b"enclave secret"
    # another enclave's image, and no attestation at all (the key is absent): denied
    _raises(_denied(session, "kms:Decrypt", key), client.decrypt, CiphertextBlob=blob,
            Recipient=recipient(enclave, pcrs={0: OTHER_IMAGE}))
    _raises(_denied(session, "kms:Decrypt", key), client.decrypt, CiphertextBlob=blob)
    # GenerateDataKey likewise
    out = client.generate_data_key(KeyId=key, KeySpec="AES_256",
                                   Recipient=recipient(enclave, pcrs={0: IMAGE}))
    assert len(open_envelope(out["CiphertextForRecipient"], enclave[0])) == 32
    _raises(_denied(session, "kms:GenerateDataKey", key), client.generate_data_key, KeyId=key,
            KeySpec="AES_256", Recipient=recipient(enclave, pcrs={0: OTHER_IMAGE}))
    _raises(_denied(session, "kms:GenerateDataKey", key), client.generate_data_key, KeyId=key,
            KeySpec="AES_256")


def test_pcr_keys_are_lower_case_hex(kms_mock, kms, enclave):
    session, key = _attested(kms_mock, kms, {"StringEquals": {
        "kms:RecipientAttestation:PCR0": IMAGE.hex(), "kms:RecipientAttestation:PCR8":
        SIGNER.hex()}})
    client = session.client()
    good = recipient(enclave, pcrs={0: IMAGE, 1: bytes(48), 8: SIGNER})
    out = client.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_NIST_P256", Recipient=good)
    assert "PrivateKeyPlaintext" not in out and out["CiphertextForRecipient"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert client.decrypt(CiphertextBlob=blob, Recipient=good)["CiphertextForRecipient"]
    for pcrs in ({0: IMAGE, 8: OTHER_IMAGE}, {0: IMAGE}):  # PCR8 differs; PCR8 is missing
        _raises(_denied(session, "kms:Decrypt", key), client.decrypt, CiphertextBlob=blob,
                Recipient=recipient(enclave, pcrs=pcrs))
    # the value is lower-case hex: StringEquals on upper-case hex never matches
    upper, key2 = _attested(kms_mock, kms, {"StringEquals": {
        "kms:RecipientAttestation:PCR0": IMAGE.hex().upper()}}, action=["kms:Decrypt"])
    blob2 = kms.encrypt(KeyId=key2, Plaintext=b"x")["CiphertextBlob"]
    _raises(_denied(upper, "kms:Decrypt", key2), upper.client().decrypt, CiphertextBlob=blob2,
            Recipient=recipient(enclave, pcrs={0: IMAGE}))


def test_pcr0_decides_derive_shared_secret(kms_mock, kms, enclave):
    session, key = _attested(kms_mock, kms, {"StringEqualsIgnoreCase": {
        "kms:RecipientAttestation:PCR0": IMAGE.hex()}}, action=["kms:DeriveSharedSecret"],
        KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    peer = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    derive = session.client().derive_shared_secret
    assert derive(KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=peer,
                  Recipient=recipient(enclave, pcrs={0: IMAGE}))["CiphertextForRecipient"]
    _raises(_denied(session, "kms:DeriveSharedSecret", key), derive, KeyId=key,
            KeyAgreementAlgorithm="ECDH", PublicKey=peer,
            Recipient=recipient(enclave, pcrs={0: OTHER_IMAGE}))


def test_absent_without_a_recipient(kms_mock, kms, enclave):
    # ...IfExists: a request without Recipient is allowed, a different image is not
    session, key = _attested(kms_mock, kms, {"StringEqualsIfExists": {
        "kms:RecipientAttestation:ImageSha384": IMAGE.hex()}}, action=["kms:Decrypt"])
    client = session.client()
    blob = kms.encrypt(KeyId=key, Plaintext=b"plain")["CiphertextBlob"]
    assert client.decrypt(CiphertextBlob=blob)["Plaintext"] == b"plain"
    assert client.decrypt(CiphertextBlob=blob, Recipient=recipient(enclave, pcrs={0: IMAGE}))
    _raises(_denied(session, "kms:Decrypt", key), client.decrypt, CiphertextBlob=blob,
            Recipient=recipient(enclave, pcrs={0: OTHER_IMAGE}))
    # Null: the usual guard, an explicit deny of Decrypt without an attestation document
    from helpers import document, statement
    role = kms_mock.principal("role/guarded")
    guarded = kms.create_key(Policy=document(
        statement(principal=ROOT),
        statement("Deny", principal="*", action="kms:Decrypt", condition={
            "Null": {"kms:RecipientAttestation:ImageSha384": "true"}})))["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=guarded, Plaintext=b"sealed")["CiphertextBlob"]
    kms_mock.principal(role.arn, policies=[document(statement(action="kms:Decrypt"))])
    session = role.assume("guard")
    _raises(_denied(session, "kms:Decrypt", guarded, "deny-resource"),
            session.client().decrypt, CiphertextBlob=blob)
    out = session.client().decrypt(CiphertextBlob=blob, Recipient=recipient(enclave))
    assert open_envelope(out["CiphertextForRecipient"], enclave[0]) == b"sealed"


def test_nitrotpm_pcrs(kms_mock, kms, enclave):
    boot = hashlib.sha384(b"boot manager").digest()
    session, key = _attested(kms_mock, kms, {
        "StringEqualsIgnoreCase": {"kms:RecipientAttestation:NitroTPMPCR4": boot.hex()},
        "Null": {"kms:RecipientAttestation:ImageSha384": "true",
                 "kms:RecipientAttestation:PCR4": "true"}})
    client = session.client()
    tpm = recipient(enclave, nitrotpm_pcrs={0: bytes(48), 4: boot, 7: bytes(48)})
    out = client.generate_data_key(KeyId=key, NumberOfBytes=16, Recipient=tpm)
    assert len(open_envelope(out["CiphertextForRecipient"], enclave[0])) == 16
    # an enclave's document has no NitroTPM PCRs, whatever its own PCR4 is
    _raises(_denied(session, "kms:GenerateDataKey", key), client.generate_data_key, KeyId=key,
            NumberOfBytes=16, Recipient=recipient(enclave, pcrs={0: IMAGE, 4: boot}))
    _raises(_denied(session, "kms:GenerateDataKey", key), client.generate_data_key, KeyId=key,
            NumberOfBytes=16, Recipient=recipient(enclave, nitrotpm_pcrs={4: IMAGE}))


def test_register_names_outside_the_ranges_are_absent(kms_mock, kms, enclave):
    session, key = _attested(kms_mock, kms, {"Null": {
        "kms:RecipientAttestation:PCR32": "true", "kms:RecipientAttestation:PCR01": "true",
        "kms:RecipientAttestation:NitroTPMPCR24": "true", "kms:RecipientAttestation:PCR": "true",
        "kms:RecipientAttestation:PCR31": "false"}}, action=["kms:Decrypt"])
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    registers = {i: bytes([i]) * 48 for i in range(33)}
    assert session.client().decrypt(CiphertextBlob=blob, Recipient=recipient(
        enclave, pcrs=registers))["CiphertextForRecipient"]
    tpm = {"pcrs": registers, "nitrotpm_pcrs": {24: bytes(48)}}
    assert session.client().decrypt(CiphertextBlob=blob, Recipient=recipient(
        enclave, extra=tpm))["CiphertextForRecipient"]


def test_generate_random_in_an_identity_policy(kms_mock, enclave):
    from helpers import document, statement
    role = kms_mock.principal("role/random", policies=[document(statement(
        action="kms:GenerateRandom", condition={"StringEqualsIgnoreCase": {
            "kms:RecipientAttestation:ImageSha384": IMAGE.hex()}}))])
    session = role.assume("rnd")
    client = session.client()
    out = client.generate_random(NumberOfBytes=24, Recipient=recipient(enclave, pcrs={0: IMAGE}))
    assert len(open_envelope(out["CiphertextForRecipient"], enclave[0])) == 24
    for extra in ({"Recipient": recipient(enclave, pcrs={0: OTHER_IMAGE})}, {},
                  # a document the handler would refuse has no measurements: authorization,
                  # which comes first for GenerateRandom, finds the key absent
                  {"Recipient": recipient(enclave, pcrs={0: IMAGE}, tamper=True)}):
        _raises(_denied(session, "kms:GenerateRandom", "*", "identity"), client.generate_random,
                NumberOfBytes=24, **extra)


def test_a_refused_document_is_refused_before_the_key_policy(kms_mock, kms, enclave):
    session, key = _attested(kms_mock, kms, {"StringEquals": {
        "kms:RecipientAttestation:ImageSha384": IMAGE.hex()}})
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    _raises(("ValidationException", "The attestation document in Recipient is not valid: its "
             "signature does not verify."), session.client().decrypt, CiphertextBlob=blob,
            Recipient=recipient(enclave, pcrs={0: IMAGE}, tamper=True))
