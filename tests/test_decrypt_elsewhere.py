"""Decrypt and ReEncrypt of a symmetric ciphertext whose key the caller cannot reach: a key of
another Region, a multi-Region key with no replica here, a key deleted for good — AWS answers
AccessDeniedException with its recorded text (../shared/kms-facts.md §4.1) — or a key of another
account whose key policy does not allow the caller: AWS's current "resource associated with this
ciphertext" denial (kms-authz-facts.md §2; docs/authorization.md). A corrupt or altered blob
stays InvalidCiphertextException with no message."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

A, B = "111111111111", "222222222222"
EAST, WEST = "us-east-1", "eu-west-1"
UNREACHABLE = ("AccessDeniedException",
               "The ciphertext refers to a customer master key that does not exist, does not "
               "exist in this region, or you are not allowed to access.")


def policy_denied(account: str, action: str = "kms:Decrypt") -> tuple[str, str]:
    """The denial for a ciphertext whose key is another account's, in this Region, and whose
    key policy does not allow ``account``."""
    return ("AccessDeniedException",
            f"User: arn:aws:iam::{account}:root is not authorized to perform: {action} on the "
            "resource associated with this ciphertext because the resource does not exist in "
            "this Region, no resource-based policies allow access, or a resource-based policy "
            "explicitly denies access")


def client(account=A, region=EAST):
    return boto3.client("kms", region_name=region, aws_access_key_id=account,
                        aws_secret_access_key="secret")


def error(call, **kw) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**kw)
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def blob_of(kms, key_id=None) -> bytes:
    key_id = key_id or kms.create_key()["KeyMetadata"]["KeyId"]
    return kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]


@pytest.mark.parametrize("account,region", [(A, WEST), (B, EAST), (B, WEST)])
def test_key_of_another_region_or_account(kms_mock, account, region):
    blob = blob_of(client())
    other = client(account, region)
    other.create_key()  # the caller's own store exists and has keys: still not the blob's key
    # same Region, another account: the key is found and its (default) key policy denies
    here = region == EAST
    assert error(other.decrypt, CiphertextBlob=blob) == (
        policy_denied(account) if here else UNREACHABLE)
    destination = other.create_key()["KeyMetadata"]["KeyId"]
    assert error(other.re_encrypt, CiphertextBlob=blob, DestinationKeyId=destination) == (
        policy_denied(account, "kms:ReEncryptFrom") if here else UNREACHABLE)
    assert client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"  # still fine at home


def test_answer_does_not_depend_on_the_key_state_elsewhere(kms_mock):
    home = client()
    key_id = home.create_key()["KeyMetadata"]["KeyId"]
    blob = blob_of(home, key_id)
    home.disable_key(KeyId=key_id)
    assert error(client(B).decrypt, CiphertextBlob=blob) == policy_denied(B)
    home.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert error(client(A, WEST).decrypt, CiphertextBlob=blob) == UNREACHABLE


def test_multi_region_key_without_a_replica_here(kms_mock):
    home = client()
    key_id = home.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    blob = blob_of(home, key_id)
    west = client(A, WEST)
    assert error(west.decrypt, CiphertextBlob=blob) == UNREACHABLE
    home.replicate_key(KeyId=key_id, ReplicaRegion=WEST)
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"


def test_key_deleted_for_good(kms_mock):
    home = client()
    key_id = home.create_key()["KeyMetadata"]["KeyId"]
    blob = blob_of(home, key_id)
    home.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    with pytest.raises(home.exceptions.KMSInvalidStateException):  # pending: still there
        home.decrypt(CiphertextBlob=blob)
    kms_mock.advance(days=8)
    assert error(home.decrypt, CiphertextBlob=blob) == UNREACHABLE
    assert error(client(B, WEST).decrypt, CiphertextBlob=blob) == UNREACHABLE
    destination = home.create_key()["KeyMetadata"]["KeyId"]
    assert error(home.re_encrypt, CiphertextBlob=blob,
                 DestinationKeyId=destination) == UNREACHABLE


def test_corrupt_blobs_stay_invalid_ciphertext(kms_mock):
    home = client()
    blob = blob_of(home)
    other = client(B)
    bad_key_ref = bytearray(blob)
    bad_key_ref[5] ^= 0x01  # names a key id no store ever held
    for bad in (b"not a ciphertext at all", blob[:-1], bytes(bad_key_ref)):
        assert error(home.decrypt, CiphertextBlob=bad) == ("InvalidCiphertextException", "")
    for bad in (b"not a ciphertext at all", bytes(bad_key_ref)):
        assert error(other.decrypt, CiphertextBlob=bad) == ("InvalidCiphertextException", "")
    # a blob whose key reference is intact is judged by its key first: out of reach here
    assert error(other.decrypt, CiphertextBlob=blob[:-1]) == policy_denied(B)


def test_key_id_given_still_reports_the_mismatch(kms_mock):
    blob = blob_of(client())
    other = client(B)
    mine = other.create_key()["KeyMetadata"]["KeyId"]
    assert error(other.decrypt, CiphertextBlob=blob, KeyId=mine) == (
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.")
