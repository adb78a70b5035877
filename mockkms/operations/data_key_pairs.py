"""GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext.

A fresh key pair of ``KeyPairSpec`` is generated for every call (as AWS does; RSA_4096 pairs take
about half a second), without the backend lock (``Context.outside``): other requests go on
meanwhile. The private key, PKCS#8 DER, is encrypted under a symmetric
ENCRYPT_DECRYPT KMS key with the ordinary symmetric blob format (``crypto.encrypt_with``), so
``Decrypt`` with the same EncryptionContext returns it. ``PublicKey`` is DER
SubjectPublicKeyInfo. ``KeyMaterialId`` names the KMS key material that encrypted it.

With ``Recipient`` (Nitro Enclaves attestation), GenerateDataKeyPair returns
``CiphertextForRecipient`` (the private key sealed by ``_recipient.seal``) instead of
``PrivateKeyPlaintext``, as AWS does.

Choices where AWS is silent or unrecorded:
* A KMS key that is not symmetric (RSA, ECC, HMAC…) gets the key-usage message KMS uses for
  GenerateDataKey: ``<ARN> key usage is SIGN_VERIFY which is not valid for GenerateDataKeyPair.``
* ``KeyPairSpec=SM2`` outside the China Regions: ``UnsupportedOperationException``,
  ``KeyPairSpec SM2 is not supported in this Region`` (the CreateKey message with the member's
  name; UNCONFIRMED).
"""
from __future__ import annotations

from .. import _keyspecs as specs
from . import _common
from . import _recipient as recipient
from .crypto import encrypt_with


def _generate_data_key_pair(ctx, p, with_plaintext: bool) -> dict:
    from .._crypto import asymmetric
    if with_plaintext:  # the Recipient is checked first, as every handler that takes one does
        recipient.check(p)
    key = ctx.key()
    pair_spec = p["KeyPairSpec"]
    if pair_spec in specs.CHINA_ONLY and not specs.is_china_region(ctx.region):
        raise specs.china_only_error("KeyPairSpec", pair_spec)
    _common.dry_run(p)
    private, public = ctx.outside(("data key pair", pair_spec),  # not under the lock
                                  lambda: asymmetric.generate_pair(pair_spec))
    sealed = None
    if with_plaintext and p.get("Recipient"):
        sealed = recipient.seal(p["Recipient"], private)
    blob, material_id = encrypt_with(ctx, key, private, p.get("EncryptionContext"))
    out = {"PrivateKeyCiphertextBlob": blob, "PublicKey": public, "KeyId": key.arn,
           "KeyPairSpec": pair_spec, "KeyMaterialId": material_id.hex()}
    if sealed is not None:
        out["CiphertextForRecipient"] = sealed
    elif with_plaintext:
        out["PrivateKeyPlaintext"] = private
    return out


def generate_data_key_pair(ctx, p):
    return _generate_data_key_pair(ctx, p, with_plaintext=True)


def generate_data_key_pair_without_plaintext(ctx, p):
    return _generate_data_key_pair(ctx, p, with_plaintext=False)
