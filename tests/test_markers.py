"""Pagination markers are valid only for the listing that made them: a marker from one
operation (or from the same operation over another key or with other filters) passed to any
paginated operation is ``InvalidMarkerException`` — or, for ListKeyPolicies, whose model declares
no such error, ignored — never an internal error. Every pair of botocore's paginated operations,
in process and through a server."""
from __future__ import annotations

import threading

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mockkms.server import make_app, make_server

REGION = "us-east-1"
RETIRER = "arn:aws:iam::123456789012:role/retirer"
_SESSION = botocore.session.get_session()
_MODEL = _SESSION.get_service_model("kms")
PAGINATED = sorted(_SESSION.get_component("data_loader")
                   .load_service_model("kms", "paginators-1")["pagination"])


def _world(kms) -> dict:
    """Listings, each with more than one entry: {variant: (operation, params)}."""
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    for i in range(3):
        kms.create_alias(AliasName=f"alias/m{i}", TargetKeyId=key)
        kms.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::123456789012:role/g{i % 2}",
                         Operations=["Decrypt"], RetiringPrincipal=RETIRER)
        kms.create_custom_key_store(
            CustomKeyStoreName=f"xks{i}", CustomKeyStoreType="EXTERNAL_KEY_STORE",
            XksProxyUriEndpoint="https://xks.example.com", XksProxyUriPath=f"/p{i}/kms/xks/v1",
            XksProxyConnectivity="PUBLIC_ENDPOINT",
            XksProxyAuthenticationCredential={"AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
                                              "RawSecretAccessKey": "A" * 43 + "="})
    for k in (key, other):
        kms.tag_resource(KeyId=k, Tags=[{"TagKey": f"t{i}", "TagValue": "v"} for i in range(3)])
        kms.create_alias(AliasName=f"alias/{k}-1", TargetKeyId=k)
        kms.create_alias(AliasName=f"alias/{k}-2", TargetKeyId=k)
    kms.rotate_key_on_demand(KeyId=key)
    kms.rotate_key_on_demand(KeyId=key)
    aliases = len(kms.list_aliases(Limit=100)["Aliases"])
    assert aliases > 5  # the predefined AWS aliases follow the account's own
    return {
        "ListKeys": ("ListKeys", {}),
        "ListAliases": ("ListAliases", {}),
        "ListAliases/predefined": ("ListAliases", {"_limit": 8}),  # a marker past own aliases
        "ListAliases/KeyId": ("ListAliases", {"KeyId": key}),
        "ListAliases/other KeyId": ("ListAliases", {"KeyId": other}),
        "ListGrants": ("ListGrants", {"KeyId": key}),
        "ListGrants/filtered": ("ListGrants", {"KeyId": key, "GranteePrincipal":
                                               "arn:aws:iam::123456789012:role/g0"}),
        "ListRetirableGrants": ("ListRetirableGrants", {"RetiringPrincipal": RETIRER}),
        "ListResourceTags": ("ListResourceTags", {"KeyId": key}),
        "ListResourceTags/other key": ("ListResourceTags", {"KeyId": other}),
        "ListKeyRotations": ("ListKeyRotations", {"KeyId": key}),
        "ListKeyRotations/all": ("ListKeyRotations", {"KeyId": key,
                                                      "IncludeKeyMaterial": "ALL_KEY_MATERIAL"}),
        "DescribeCustomKeyStores": ("DescribeCustomKeyStores", {}),
        "ListKeyPolicies": ("ListKeyPolicies", {"KeyId": key}),
    }


def _call(kms, operation, params, **extra):
    params = {k: v for k, v in params.items() if not k.startswith("_")}
    return kms._make_api_call(operation, {**params, **extra})


def check_every_pair(kms) -> int:
    world = _world(kms)
    assert {op for op, _ in world.values()} == set(PAGINATED), "a new paginated operation"
    markers = {}
    for variant, (operation, params) in world.items():
        if operation == "ListKeyPolicies":
            continue  # one policy, never a second page
        out = _call(kms, operation, params, Limit=params.get("_limit", 1))
        assert out["Truncated"], variant
        markers[variant] = out["NextMarker"]
        # the marker works where it was made
        assert _call(kms, operation, params, Marker=out["NextMarker"])["ResponseMetadata"]
    checked = 0
    def listing(variant):
        operation, params = world[variant]
        return operation, sorted((k, v) for k, v in params.items() if not k.startswith("_"))
    for source, marker in markers.items():
        for target, (operation, params) in world.items():
            if listing(target) == listing(source):  # ListAliases with another Limit
                continue
            checked += 1
            if operation == "ListKeyPolicies":  # no InvalidMarkerException in its model
                assert "InvalidMarkerException" not in {
                    e.name for e in _MODEL.operation_model(operation).error_shapes}
                assert _call(kms, operation, params, Marker=marker)["PolicyNames"] == \
                    ["default"]
                continue
            with pytest.raises(ClientError) as exc:
                _call(kms, operation, params, Marker=marker)
            error = exc.value.response["Error"]
            assert error["Code"] == "InvalidMarkerException", (source, target, error)
            assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return checked


def test_markers_of_another_listing_are_invalid_in_process(kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    assert check_every_pair(kms) == 13 * 13 - 2


def test_markers_of_another_listing_are_invalid_in_the_server():
    server = make_server(make_app(), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        kms = boto3.client("kms", endpoint_url=server.url, region_name=REGION,
                           aws_access_key_id="AKIDMARKERS", aws_secret_access_key="x",
                           config=Config(retries={"max_attempts": 1}))
        assert check_every_pair(kms) == 13 * 13 - 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_marker_from_another_account_or_region_is_invalid(kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    for _ in range(2):
        kms.create_key()
    marker = kms.list_keys(Limit=1)["NextMarker"]
    for other in (boto3.client("kms", region_name="eu-west-1"),
                  boto3.client("kms", region_name=REGION, aws_access_key_id="111122223333",
                               aws_secret_access_key="x")):
        other.create_key()
        other.create_key()
        with pytest.raises(other.exceptions.InvalidMarkerException):
            other.list_keys(Marker=marker)
    assert len(kms.list_keys(Marker=marker)["Keys"]) == 1
