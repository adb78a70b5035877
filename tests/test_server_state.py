"""``mockkms serve --state-dir`` as a subprocess: what a restart — clean (SIGTERM) or a crash
(SIGKILL right after a 200) — keeps, including the import tokens and pagination markers handed
out before it. Servers listen on a free port of 127.0.0.1 and check their database after every
request (``MOCKKMS_VERIFY_STATE``, set by serving.ENV)."""
from __future__ import annotations

import os
import signal

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from material import wrap

REGION = "us-east-1"


def _handed_out(kms) -> dict:
    """Make changes of every kind and keep what the server answered."""
    out = {}
    out["key"] = kms.create_key(Description="kept")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/kept", TargetKeyId=out["key"])
    kms.tag_resource(KeyId=out["key"], Tags=[{"TagKey": "t", "TagValue": "v"}])
    out["blob"] = kms.encrypt(KeyId="alias/kept", Plaintext=b"secret")["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=out["key"])
    out["signer"] = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")[
        "KeyMetadata"]["KeyId"]
    out["signature"] = kms.sign(KeyId=out["signer"], Message=b"m", MessageType="RAW",
                                SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    out["managed"] = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]  # created by a read
    out["pending"] = kms.create_key()["KeyMetadata"]["KeyId"]
    out["deletion"] = kms.schedule_key_deletion(KeyId=out["pending"],
                                                PendingWindowInDays=7)["DeletionDate"]
    out["external"] = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    out["params"] = kms.get_parameters_for_import(
        KeyId=out["external"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    out["keys"] = kms.list_keys()["Keys"]
    out["marker"] = kms.list_keys(Limit=2)["NextMarker"]
    return out


def _still_there(kms, out) -> None:
    assert kms.describe_key(KeyId="alias/kept")["KeyMetadata"]["Description"] == "kept"
    assert kms.list_resource_tags(KeyId=out["key"])["Tags"] == [{"TagKey": "t", "TagValue": "v"}]
    assert kms.decrypt(CiphertextBlob=out["blob"])["Plaintext"] == b"secret"
    assert kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"] == out["managed"]
    public = serialization.load_der_public_key(
        kms.get_public_key(KeyId=out["signer"])["PublicKey"])
    public.verify(out["signature"], b"m",
                  padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH),
                  hashes.SHA256())
    pending = kms.describe_key(KeyId=out["pending"])["KeyMetadata"]
    assert (pending["KeyState"], pending["DeletionDate"]) == ("PendingDeletion", out["deletion"])
    # a marker and an import token from before the restart are accepted
    assert kms.list_keys(Marker=out["marker"])["Keys"] == out["keys"][2:]
    params = out["params"]
    kms.import_key_material(KeyId=out["external"], ImportToken=params["ImportToken"],
                            EncryptedKeyMaterial=wrap(params["PublicKey"], os.urandom(32),
                                                      "RSAES_OAEP_SHA_256"),
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms.describe_key(KeyId=out["external"])["KeyMetadata"]["KeyState"] == "Enabled"


@pytest.mark.slow
def test_a_clean_restart_accepts_import_tokens_and_markers_from_before(start, tmp_path):
    """Both were sealed with per-process secrets: refused after a restart (Invalid...)."""
    server = start("--state-dir", str(tmp_path))
    out = _handed_out(server.client())
    code, _, err = server.finish(signal.SIGTERM)
    assert code == 0, err
    again = start("--state-dir", str(tmp_path))
    _still_there(again.client(), out)


@pytest.mark.slow
def test_kill_9_right_after_a_200_loses_nothing(start, tmp_path):
    server = start("--state-dir", str(tmp_path))
    out = _handed_out(server.client())
    server.proc.send_signal(signal.SIGKILL)   # no shutdown: what was answered must be on disk
    server.proc.wait(10)
    again = start("--state-dir", str(tmp_path))
    assert f"loaded {len(out['keys'])} key(s)" in "".join(again.lines)
    _still_there(again.client(), out)
