"""Custom key stores (CloudHSM and external): their operations, the simulated connection, and
KMS keys inside them (CreateKey, Unavailable while disconnected, GenerateRandom)."""
from __future__ import annotations

import re

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of

ACCOUNT = "123456789012"
CLUSTER = "cluster-234567abcde"
SECRET = "a" * 43
_CLIENTS: dict = {}


def client(region: str = "us-east-1"):
    if region not in _CLIENTS:
        _CLIENTS[region] = boto3.client("kms", region_name=region)
    return _CLIENTS[region]


def arn(key_id: str) -> str:
    return f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"


def cloudhsm(name="hsm", cluster=CLUSTER, connect=False, **kw) -> str:
    store_id = client().create_custom_key_store(
        CustomKeyStoreName=name, CloudHsmClusterId=cluster, TrustAnchorCertificate="cert",
        KeyStorePassword="kmsuser-pass", **kw)["CustomKeyStoreId"]
    if connect:
        client().connect_custom_key_store(CustomKeyStoreId=store_id)
    return store_id


def xks_params(name="xks", endpoint="https://xks.example.com", path="/kms/xks/v1",
               connectivity="PUBLIC_ENDPOINT", **kw) -> dict:
    return dict(CustomKeyStoreName=name, CustomKeyStoreType="EXTERNAL_KEY_STORE",
                XksProxyUriEndpoint=endpoint, XksProxyUriPath=path,
                XksProxyConnectivity=connectivity,
                XksProxyAuthenticationCredential={"AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
                                                  "RawSecretAccessKey": SECRET}, **kw)


def xks(connect=False, **kw) -> str:
    store_id = client().create_custom_key_store(**xks_params(**kw))["CustomKeyStoreId"]
    if connect:
        client().connect_custom_key_store(CustomKeyStoreId=store_id)
    return store_id


def entry(store_id: str) -> dict:
    return client().describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]


def error(call, **kw) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**kw)
    return error_of(exc)


def invalid_state(store_id, state, action):
    return ("CustomKeyStoreInvalidStateException",
            f"Custom key store {store_id} is {state}. {action}")


def not_found(store_id):
    return ("CustomKeyStoreNotFoundException",
            f"Custom key store '{store_id}' does not exist in this account and Region.")


# --- CreateCustomKeyStore / DescribeCustomKeyStores --------------------------------------------

def test_create_cloudhsm_store(kms_mock):
    store_id = cloudhsm()
    assert re.fullmatch(r"cks-[0-9a-f]{17}", store_id)
    e = entry(store_id)
    created = e.pop("CreationDate")
    assert created.year >= 2024
    assert e == {"CustomKeyStoreId": store_id, "CustomKeyStoreName": "hsm",
                 "CloudHsmClusterId": CLUSTER, "TrustAnchorCertificate": "cert",
                 "ConnectionState": "DISCONNECTED", "CustomKeyStoreType": "AWS_CLOUDHSM"}
    assert entry(cloudhsm("typed", "cluster-234567abcdf", CustomKeyStoreType="AWS_CLOUDHSM"))[
        "CustomKeyStoreType"] == "AWS_CLOUDHSM"


def test_create_external_stores(kms_mock):
    public = entry(xks())
    assert public["CustomKeyStoreType"] == "EXTERNAL_KEY_STORE"
    assert public["XksProxyConfiguration"] == {
        "Connectivity": "PUBLIC_ENDPOINT", "AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
        "UriEndpoint": "https://xks.example.com", "UriPath": "/kms/xks/v1"}
    assert "CloudHsmClusterId" not in public and "TrustAnchorCertificate" not in public
    vpc = entry(xks(name="vpc", endpoint="https://private.example.com",
                    connectivity="VPC_ENDPOINT_SERVICE",
                    XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0abc",
                    XksProxyVpcEndpointServiceOwner="210987654321"))
    assert vpc["XksProxyConfiguration"] == {
        "Connectivity": "VPC_ENDPOINT_SERVICE", "AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
        "UriEndpoint": "https://private.example.com", "UriPath": "/kms/xks/v1",
        "VpcEndpointServiceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc",
        "VpcEndpointServiceOwner": "210987654321"}
    assert SECRET not in str(client().describe_custom_key_stores())


@pytest.mark.parametrize("missing", ["CloudHsmClusterId", "TrustAnchorCertificate",
                                     "KeyStorePassword"])
def test_cloudhsm_required_members(kms_mock, missing):
    params = dict(CustomKeyStoreName="s", CloudHsmClusterId=CLUSTER,
                  TrustAnchorCertificate="cert", KeyStorePassword="kmsuser-pass")
    del params[missing]
    assert error(client().create_custom_key_store, **params) == (
        "ValidationException", f"{missing} is required for a CloudHSM key store.")


@pytest.mark.parametrize("missing", ["XksProxyConnectivity", "XksProxyUriEndpoint",
                                     "XksProxyUriPath", "XksProxyAuthenticationCredential"])
def test_external_required_members(kms_mock, missing):
    params = xks_params()
    del params[missing]
    assert error(client().create_custom_key_store, **params) == (
        "ValidationException", f"{missing} is required for an external key store.")


def test_members_of_the_other_type_and_connectivity(kms_mock):
    create = client().create_custom_key_store
    assert error(create, **xks_params(CloudHsmClusterId=CLUSTER)) == (
        "ValidationException",
        "CloudHsmClusterId is not valid for a custom key store of type EXTERNAL_KEY_STORE.")
    assert error(create, CustomKeyStoreName="s", CloudHsmClusterId=CLUSTER,
                 TrustAnchorCertificate="c", KeyStorePassword="kmsuser-pass",
                 XksProxyUriPath="/kms/xks/v1") == (
        "ValidationException",
        "XksProxyUriPath is not valid for a custom key store of type AWS_CLOUDHSM.")
    assert error(create, **xks_params(connectivity="VPC_ENDPOINT_SERVICE")) == (
        "ValidationException", "XksProxyVpcEndpointServiceName is required when "
        "XksProxyConnectivity is VPC_ENDPOINT_SERVICE.")
    assert error(create, **xks_params(
        XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0abc")) == (
        "ValidationException", "XksProxyVpcEndpointServiceName and "
        "XksProxyVpcEndpointServiceOwner are valid only when XksProxyConnectivity is "
        "VPC_ENDPOINT_SERVICE.")
    assert error(create, CustomKeyStoreName="s", CloudHsmClusterId="cluster-1111111111111",
                 TrustAnchorCertificate="c", KeyStorePassword="kmsuser-pass")[0] == \
        "ValidationException"  # the model's pattern and length
    assert client().describe_custom_key_stores()["CustomKeyStores"] == []


def test_uniqueness(kms_mock):
    create = client().create_custom_key_store
    cloudhsm()
    assert error(create, **xks_params(name="hsm")) == (
        "CustomKeyStoreNameInUseException",
        "Custom key store name 'hsm' is already in use in this account and Region.")
    assert error(cloudhsm, name="other")[0] == "CloudHsmClusterInUseException"
    xks()
    assert error(create, **xks_params(name="same-uri")) == (
        "XksProxyUriInUseException", "The external key store proxy URI "
        "https://xks.example.com/kms/xks/v1 is already associated with another external key "
        "store in this Region.")
    xks(name="other-path", path="/tenant/kms/xks/v1")  # same public endpoint, other path: fine
    assert error(create, **xks_params(
        name="vpc", path="/vpc/kms/xks/v1", connectivity="VPC_ENDPOINT_SERVICE",
        XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0abc")) == (
        "XksProxyUriEndpointInUseException", "XksProxyUriEndpoint https://xks.example.com is "
        "already associated with an external key store with PUBLIC_ENDPOINT connectivity in "
        "this Region.")
    xks(name="vpc", endpoint="https://private.example.com", connectivity="VPC_ENDPOINT_SERVICE",
        XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0abc")
    assert error(create, **xks_params(
        name="vpc2", endpoint="https://other.example.com", connectivity="VPC_ENDPOINT_SERVICE",
        XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0abc"))[0] == \
        "XksProxyVpcEndpointServiceInUseException"
    # names and proxies are per Region
    client("eu-west-1").create_custom_key_store(**xks_params(name="hsm"))
    assert len(client().describe_custom_key_stores()["CustomKeyStores"]) == 4


def test_quota_of_ten_stores(kms_mock):
    for i in range(10):
        xks(name=f"s{i}", path=f"/p{i}/kms/xks/v1")
    assert error(client().create_custom_key_store, **xks_params(name="s10")) == (
        "LimitExceededException", "Custom key store quota for this account in this region is "
        "10 but the current count is 10.")
    assert len(client().describe_custom_key_stores()["CustomKeyStores"]) == 10


def test_describe_filters_and_paging(kms_mock):
    ids = [xks(name=f"s{i}", path=f"/p{i}/kms/xks/v1") for i in range(5)]
    describe = client().describe_custom_key_stores
    assert [s["CustomKeyStoreId"] for s in describe()["CustomKeyStores"]] == ids
    assert describe(CustomKeyStoreName="s3")["CustomKeyStores"][0]["CustomKeyStoreId"] == ids[3]
    page = describe(Limit=2)
    assert page["Truncated"] is True and len(page["CustomKeyStores"]) == 2
    seen = [s["CustomKeyStoreId"] for s in page["CustomKeyStores"]]
    while page["Truncated"]:
        page = describe(Limit=2, Marker=page["NextMarker"])
        seen += [s["CustomKeyStoreId"] for s in page["CustomKeyStores"]]
    assert seen == ids and "NextMarker" not in page
    paginated = client().get_paginator("describe_custom_key_stores").paginate(
        PaginationConfig={"PageSize": 3})
    assert [s["CustomKeyStoreId"] for p in paginated for s in p["CustomKeyStores"]] == ids
    assert error(describe, CustomKeyStoreId="cks-00000000000000000") == \
        not_found("cks-00000000000000000")
    assert error(describe, CustomKeyStoreName="nope") == (
        "CustomKeyStoreNotFoundException",
        "Custom key store with name 'nope' does not exist in this account and Region.")
    assert error(describe, CustomKeyStoreId=ids[0], CustomKeyStoreName="s0") == (
        "ValidationException", "Specify either CustomKeyStoreId or CustomKeyStoreName, not both.")
    assert error(describe, Marker="forged")[0] == "InvalidMarkerException"


# --- connection state -----------------------------------------------------------------------------

def test_connect_and_disconnect(kms_mock):
    store_id = cloudhsm()
    kms = client()
    assert error(kms.disconnect_custom_key_store, CustomKeyStoreId=store_id) == invalid_state(
        store_id, "DISCONNECTED", "It is already disconnected.")
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert entry(store_id)["ConnectionState"] == "CONNECTED"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)  # already connected: fine
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert entry(store_id)["ConnectionState"] == "DISCONNECTED"
    for call in (kms.connect_custom_key_store, kms.disconnect_custom_key_store,
                 kms.delete_custom_key_store, kms.update_custom_key_store):
        assert error(call, CustomKeyStoreId="cks-1234567890abcdef0") == \
            not_found("cks-1234567890abcdef0")


# --- keys in a custom key store -------------------------------------------------------------------

def test_keys_in_a_cloudhsm_store(kms_mock):
    kms = client()
    store_id = cloudhsm()
    assert error(kms.create_key, Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id) == \
        invalid_state(store_id, "DISCONNECTED", "It must be CONNECTED to create KMS keys in it.")
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    md = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id,
                        Description="in the hsm")["KeyMetadata"]
    assert (md["Origin"], md["CustomKeyStoreId"], md["CloudHsmClusterId"]) == (
        "AWS_CLOUDHSM", store_id, CLUSTER)
    assert md["KeyState"] == "Enabled" and "XksKeyConfiguration" not in md
    assert "CurrentKeyMaterialId" not in md  # only for AWS_KMS and EXTERNAL origin
    blob = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"hsm", EncryptionContext={"a": "1"})
    assert kms.decrypt(CiphertextBlob=blob["CiphertextBlob"],
                       EncryptionContext={"a": "1"})["Plaintext"] == b"hsm"
    other = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)["KeyMetadata"]
    assert other["KeyId"] != md["KeyId"]


def test_keys_in_an_external_store(kms_mock):
    kms = client()
    store_id = xks(connect=True)
    md = kms.create_key(Origin="EXTERNAL_KEY_STORE", CustomKeyStoreId=store_id,
                        XksKeyId="ext-key-1")["KeyMetadata"]
    assert md["XksKeyConfiguration"] == {"Id": "ext-key-1"}
    assert md["CustomKeyStoreId"] == store_id and "CloudHsmClusterId" not in md
    blob = kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256")
    assert kms.decrypt(CiphertextBlob=blob["CiphertextBlob"])["Plaintext"] == blob["Plaintext"]
    assert error(kms.create_key, Origin="EXTERNAL_KEY_STORE", CustomKeyStoreId=store_id,
                 XksKeyId="ext-key-1") == (
        "XksKeyAlreadyInUseException", f"External key ext-key-1 is already associated with a "
        f"KMS key in custom key store {store_id}.")
    second = xks(name="second", path="/two/kms/xks/v1", connect=True)
    kms.create_key(Origin="EXTERNAL_KEY_STORE", CustomKeyStoreId=second, XksKeyId="ext-key-1")


def test_create_key_argument_errors(kms_mock):
    kms = client()
    hsm, ext = cloudhsm(connect=True), xks(connect=True)
    cases = [
        (dict(Origin="AWS_CLOUDHSM"),
         ("ValidationException", "CustomKeyStoreId is required when Origin is AWS_CLOUDHSM.")),
        (dict(CustomKeyStoreId=hsm), ("ValidationException",
                                      "CustomKeyStoreId is valid only when Origin is AWS_CLOUDHSM "
                                      "or EXTERNAL_KEY_STORE, not AWS_KMS.")),
        (dict(Origin="EXTERNAL", CustomKeyStoreId=hsm), ("ValidationException",
                                                         "CustomKeyStoreId is valid only when "
                                                         "Origin is AWS_CLOUDHSM or "
                                                         "EXTERNAL_KEY_STORE, not EXTERNAL.")),
        (dict(Origin="EXTERNAL_KEY_STORE", CustomKeyStoreId=ext), (
            "ValidationException", "XksKeyId is required when Origin is EXTERNAL_KEY_STORE.")),
        (dict(Origin="AWS_CLOUDHSM", CustomKeyStoreId=hsm, XksKeyId="k"), (
            "ValidationException", "XksKeyId is valid only for keys in an external key store "
            "(Origin EXTERNAL_KEY_STORE).")),
        (dict(Origin="AWS_CLOUDHSM", CustomKeyStoreId=ext), (
            "ValidationException", f"Origin AWS_CLOUDHSM does not match the type of custom key "
            f"store {ext} (EXTERNAL_KEY_STORE).")),
        (dict(Origin="AWS_CLOUDHSM", CustomKeyStoreId="cks-00000000000000000"),
         not_found("cks-00000000000000000")),
        (dict(Origin="AWS_CLOUDHSM", CustomKeyStoreId=hsm, KeySpec="RSA_2048",
              KeyUsage="ENCRYPT_DECRYPT"), (
            "UnsupportedOperationException", "KeySpec RSA_2048 with KeyUsage ENCRYPT_DECRYPT is "
            "not supported in a custom key store. Only SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT "
            "are.")),
        (dict(Origin="AWS_CLOUDHSM", CustomKeyStoreId=hsm, MultiRegion=True), (
            "UnsupportedOperationException",
            "Multi-Region keys are not supported in custom key stores.")),
    ]
    for params, expected in cases:
        assert error(kms.create_key, **params) == expected, params
    assert kms.list_keys()["Keys"] == []


def test_disconnected_keys_are_unavailable(kms_mock):
    kms = client()
    store_id = cloudhsm(connect=True)
    enabled = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)["KeyMetadata"]
    disabled = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)["KeyMetadata"]
    pending = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)["KeyMetadata"]
    plain = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=7)
    blob = kms.encrypt(KeyId=enabled["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    state = lambda md: kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]["KeyState"]  # noqa
    assert [state(enabled), state(disabled), state(pending), state(plain)] == [
        "Unavailable", "Unavailable", "PendingDeletion", "Enabled"]
    assert kms.describe_key(KeyId=enabled["KeyId"])["KeyMetadata"]["Enabled"] is False
    for call in (lambda: kms.encrypt(KeyId=enabled["KeyId"], Plaintext=b"x"),
                 lambda: kms.decrypt(CiphertextBlob=blob)):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("KMSInvalidStateException",
                                 f"{enabled['Arn']} is unavailable.")
    assert error(kms.create_key, Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)[0] == \
        "CustomKeyStoreInvalidStateException"

    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert [state(enabled), state(disabled), state(pending)] == [
        "Enabled", "Disabled", "PendingDeletion"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_enable_disable_while_unavailable_apply_on_reconnect(kms_mock):
    kms = client()
    store_id = cloudhsm(connect=True)
    a = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)["KeyMetadata"]["KeyId"]
    b = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=b)
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    kms.disable_key(KeyId=a)
    kms.enable_key(KeyId=b)
    for key_id in (a, b):
        assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Unavailable"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert kms.describe_key(KeyId=a)["KeyMetadata"]["KeyState"] == "Disabled"
    assert kms.describe_key(KeyId=b)["KeyMetadata"]["KeyState"] == "Enabled"


def test_cancel_deletion_while_disconnected(kms_mock):
    kms = client()
    store_id = cloudhsm(connect=True)
    key_id = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)["KeyMetadata"][
        "KeyId"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    kms.cancel_key_deletion(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


# --- DeleteCustomKeyStore ------------------------------------------------------------------------

def test_delete_store(kms_mock):
    kms = client()
    store_id = cloudhsm(connect=True)
    key_id = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id)["KeyMetadata"][
        "KeyId"]
    assert error(kms.delete_custom_key_store, CustomKeyStoreId=store_id) == invalid_state(
        store_id, "CONNECTED", "Disconnect it before deleting it.")
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert error(kms.delete_custom_key_store, CustomKeyStoreId=store_id) == (
        "CustomKeyStoreHasCMKsException", f"Custom key store {store_id} contains KMS keys. "
        "Schedule their deletion and wait until they are deleted before deleting the custom "
        "key store.")
    kms_mock.advance(days=7, minutes=1)
    kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    assert error(kms.describe_custom_key_stores, CustomKeyStoreId=store_id) == \
        not_found(store_id)
    cloudhsm()  # the name and the cluster are free again


# --- UpdateCustomKeyStore ----------------------------------------------------------------------

def test_update_cloudhsm_store(kms_mock):
    kms = client()
    store_id = cloudhsm(connect=True)
    cloudhsm(name="taken", cluster="cluster-234567abcdz")
    kms.update_custom_key_store(CustomKeyStoreId=store_id, NewCustomKeyStoreName="renamed")
    assert entry(store_id)["CustomKeyStoreName"] == "renamed"
    assert error(kms.update_custom_key_store, CustomKeyStoreId=store_id,
                 KeyStorePassword="new-password") == invalid_state(
        store_id, "CONNECTED", "Disconnect it before updating KeyStorePassword.")
    assert error(kms.update_custom_key_store, CustomKeyStoreId=store_id,
                 NewCustomKeyStoreName="taken") == (
        "CustomKeyStoreNameInUseException",
        "Custom key store name 'taken' is already in use in this account and Region.")
    assert error(kms.update_custom_key_store, CustomKeyStoreId=store_id,
                 XksProxyUriPath="/kms/xks/v2") == (
        "ValidationException",
        "XksProxyUriPath is not valid for a custom key store of type AWS_CLOUDHSM.")
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword="new-password",
                                CloudHsmClusterId="cluster-234567abcdy")
    e = entry(store_id)
    assert (e["CustomKeyStoreName"], e["CloudHsmClusterId"]) == ("renamed",
                                                                 "cluster-234567abcdy")


def test_update_external_store(kms_mock):
    kms = client()
    store_id = xks(connect=True)
    other = xks(name="other", path="/other/kms/xks/v1")
    kms.update_custom_key_store(
        CustomKeyStoreId=store_id, XksProxyUriPath="/new/kms/xks/v2",
        XksProxyAuthenticationCredential={"AccessKeyId": "BBBBBBBBBBBBBBBBBBBB",
                                          "RawSecretAccessKey": "b" * 43})
    cfg = entry(store_id)["XksProxyConfiguration"]
    assert (cfg["UriPath"], cfg["AccessKeyId"]) == ("/new/kms/xks/v2", "BBBBBBBBBBBBBBBBBBBB")
    assert error(kms.update_custom_key_store, CustomKeyStoreId=store_id,
                 XksProxyUriEndpoint="https://moved.example.com") == invalid_state(
        store_id, "CONNECTED", "Disconnect it before updating XksProxyUriEndpoint.")
    assert error(kms.update_custom_key_store, CustomKeyStoreId=other,
                 XksProxyUriPath="/new/kms/xks/v2")[0] == "XksProxyUriInUseException"
    assert error(kms.update_custom_key_store, CustomKeyStoreId=store_id,
                 KeyStorePassword="password")[0] == "ValidationException"
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert error(kms.update_custom_key_store, CustomKeyStoreId=store_id,
                 XksProxyConnectivity="VPC_ENDPOINT_SERVICE") == (
        "ValidationException", "XksProxyVpcEndpointServiceName is required when "
        "XksProxyConnectivity is VPC_ENDPOINT_SERVICE.")
    service = "com.amazonaws.vpce.us-east-1.vpce-svc-0abc"
    kms.update_custom_key_store(CustomKeyStoreId=store_id, XksProxyConnectivity=
                                "VPC_ENDPOINT_SERVICE", XksProxyVpcEndpointServiceName=service,
                                XksProxyUriEndpoint="https://private.example.com")
    cfg = entry(store_id)["XksProxyConfiguration"]
    assert (cfg["Connectivity"], cfg["VpcEndpointServiceName"], cfg["UriEndpoint"]) == (
        "VPC_ENDPOINT_SERVICE", service, "https://private.example.com")
    kms.update_custom_key_store(CustomKeyStoreId=store_id, XksProxyConnectivity="PUBLIC_ENDPOINT")
    cfg = entry(store_id)["XksProxyConfiguration"]
    assert cfg["Connectivity"] == "PUBLIC_ENDPOINT" and "VpcEndpointServiceName" not in cfg


# --- GenerateRandom -------------------------------------------------------------------------------

def test_generate_random_in_a_custom_key_store(kms_mock):
    kms = client()
    hsm, ext = cloudhsm(), xks(connect=True)
    assert error(kms.generate_random, NumberOfBytes=8, CustomKeyStoreId=hsm) == invalid_state(
        hsm, "DISCONNECTED", "It must be CONNECTED for this operation.")
    kms.connect_custom_key_store(CustomKeyStoreId=hsm)
    assert len(kms.generate_random(NumberOfBytes=8, CustomKeyStoreId=hsm)["Plaintext"]) == 8
    assert error(kms.generate_random, NumberOfBytes=8, CustomKeyStoreId=ext) == (
        "UnsupportedOperationException",
        f"{ext} is an external key store. GenerateRandom supports only CloudHSM key stores.")
    assert error(kms.generate_random, NumberOfBytes=8,
                 CustomKeyStoreId="cks-00000000000000000") == not_found("cks-00000000000000000")
