"""``python -m mockkms demo``: the walkthrough of AWS's "Enabling and Disabling Keys" page, run
against the in-memory backend with a real boto3 client."""
from __future__ import annotations

from typing import Callable


def run(print_: Callable[[str], object] = print) -> int:
    import boto3

    from . import mock_kms

    with mock_kms(region="us-west-2"):
        kms = boto3.client("kms", region_name="us-west-2")
        key = kms.create_key(Description="mockkms demo key")["KeyMetadata"]
        key_id = key["KeyId"]
        print_(f"CreateKey           -> {key_id} (KeyState {key['KeyState']})")

        kms.disable_key(KeyId=key_id)
        print_("DisableKey          -> (no output)")
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        print_(f"DescribeKey         -> Enabled={meta['Enabled']} KeyState={meta['KeyState']}")
        try:
            kms.encrypt(KeyId=key_id, Plaintext=b"secret")
            print_("Encrypt             -> unexpectedly succeeded")
            return 1
        except kms.exceptions.DisabledException as err:
            print_(f"Encrypt             -> DisabledException: {err.response['Error']['Message']}")

        kms.enable_key(KeyId=key_id)
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        print_(f"EnableKey           -> Enabled={meta['Enabled']} KeyState={meta['KeyState']}")
        context = {"purpose": "demo"}
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret",
                           EncryptionContext=context)["CiphertextBlob"]
        print_(f"Encrypt             -> {len(blob)}-byte AES-256-GCM ciphertext blob")
        plain = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"]
        print_(f"Decrypt             -> {plain!r}")
        try:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "other"})
        except kms.exceptions.InvalidCiphertextException:
            print_("Decrypt (wrong ctx) -> InvalidCiphertextException")
    return 0 if plain == b"secret" else 1
