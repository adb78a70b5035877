"""Regions: the mock's default region is the user's, and a Region that does not exist is refused.

A Region exists when botocore's partition data lists it (``mockkms._regions``). A client in any
other region (``mars``, ``us-east-9``) gets what botocore raises against AWS there, an
``EndpointConnectionError`` naming the endpoint URL (with mockkms's reason), at once rather than
after retries — and the mock creates no state for it: no store, no call-log entry, no memory.
"""
from __future__ import annotations

import gc
import io
import json
import os
import tracemalloc

import boto3
import botocore.loaders
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from helpers import error_of
from mockkms import SeedError, _mock, _regions, _transport, load_seed, mock_kms
from mockkms.server.app import make_app

MADE_UP = ["mars", "us-east-9", "eu-west-99", "xx-nowhere-1"]


def _listed_regions() -> set:
    loader = botocore.loaders.create_loader()
    return {region for name in ("partitions", "endpoints")
            for partition in loader.load_data(name)["partitions"]
            for region in partition["regions"]}


def _stored_regions() -> set:
    return {region for _, region in _mock._BACKEND.stores}


@pytest.mark.parametrize("region", ["mars", "us-east-9"])
def test_client_in_a_made_up_region_gets_the_endpoint_error(region, network):
    attempts = []
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name=region)  # botocore's default retries
        kms.meta.events.register_first("request-created.kms", lambda **kw: attempts.append(1))
        with pytest.raises(EndpointConnectionError) as exc:
            kms.create_key()
        assert str(exc.value) == (
            f'Could not connect to the endpoint URL: "https://kms.{region}.amazonaws.com/" '
            f"(mockkms: there is no AWS Region '{region}' in botocore's partition data, so no "
            "KMS endpoint either)")
        assert isinstance(exc.value, _regions.UnknownRegionError)
        assert attempts == [1]  # refused before signing: botocore does not retry it
        assert region not in _stored_regions() and mock.calls == []
        assert boto3.client("kms", region_name="us-east-1").list_keys()["Keys"] == []
    assert network == []


def test_made_up_region_unsigned_or_at_a_custom_endpoint(network):
    with mock_kms() as mock:
        unsigned = boto3.client("kms", region_name="mars",
                                config=Config(signature_version=UNSIGNED))
        local = boto3.client("kms", region_name="mars", endpoint_url="http://localhost:4566")
        for kms, url in ((unsigned, "https://kms.mars.amazonaws.com/"),
                         (local, "http://localhost:4566/")):
            with pytest.raises(EndpointConnectionError, match=f'"{url}" .*mockkms'):
                kms.list_keys()
        assert "mars" not in _stored_regions() and mock.calls == []
    assert network == []


def test_requests_to_a_made_up_region(network):
    with mock_kms() as mock:
        with pytest.raises(requests.ConnectionError, match="no AWS Region 'mars'"):
            requests.post("https://kms.mars.amazonaws.com/", data="{}",
                          headers={"X-Amz-Target": "TrentService.ListKeys",
                                   "Content-Type": "application/x-amz-json-1.1"})
        assert "mars" not in _stored_regions() and mock.calls == []
    assert network == []


def test_real_regions_work(network):
    """Regions of every partition botocore lists, the newest included."""
    listed = _listed_regions()
    wanted = ["eu-central-2", "ap-southeast-5", "mx-central-1", "ap-southeast-7", "ca-west-1",
              "us-gov-east-1", "cn-northwest-1", "eu-isoe-west-1", "eusc-de-east-1"]
    regions = [region for region in wanted if region in listed]
    assert len(regions) >= 6, listed
    with mock_kms():
        for region in regions:
            md = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]
            assert f":kms:{region}:123456789012:key/" in md["Arn"]
    assert network == []


def test_arns_name_the_region_s_partition(network):
    """Every ARN the mock makes names the partition botocore's data puts the Region in —
    the key's, the default policy's root principal and a replica's."""
    from botocore.loaders import create_loader

    partitions = {region: part["id"] for part in create_loader().load_data("partitions")[
        "partitions"] for region in part["regions"] if not region.endswith("-global")}
    expected = {"us-east-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
                "us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b",
                "eu-isoe-west-1": "aws-iso-e", "eusc-de-east-1": "aws-eusc"}
    expected = {r: p for r, p in expected.items() if partitions.get(r) == p}
    assert len(expected) >= 5, partitions
    with mock_kms():
        for region, part in expected.items():
            kms = boto3.client("kms", region_name=region)
            md = kms.create_key()["KeyMetadata"]
            assert md["Arn"].startswith(f"arn:{part}:kms:{region}:123456789012:key/")
            policy = json.loads(kms.get_key_policy(KeyId=md["KeyId"])["Policy"])
            assert policy["Statement"][0]["Principal"] == {
                "AWS": f"arn:{part}:iam::123456789012:root"}
    assert network == []


def test_exists_is_botocore_s_list():
    listed = _listed_regions()
    assert all(_regions.exists(region) for region in listed if not region.endswith("-global"))
    assert not any(_regions.exists(region) for region in [*MADE_UP, "aws-global", "", None])


def test_made_up_regions_leave_no_state_and_no_memory():
    """5,000 requests signed for made-up regions, through the path every transport shares."""
    def request(region):
        headers = {"X-Amz-Target": "TrentService.ListKeys",
                   "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/{region}"
                                    "/kms/aws4_request, SignedHeaders=host, Signature=x"}
        with pytest.raises(_regions.UnknownRegionError):
            _transport.answer(mock, headers, "https://kms.amazonaws.com/", b"{}")

    with mock_kms() as mock:
        request("xx-warm-1")
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(5_000):
            request(f"xx-made-up-{i}")
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert _mock._BACKEND.stores == {} and mock.calls == []
    assert grown < 64 * 1024, grown


def test_server_refuses_a_made_up_region_without_state():
    app = make_app()
    for region in MADE_UP:
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "CONTENT_LENGTH": "2",
                   "CONTENT_TYPE": "application/x-amz-json-1.1",
                   "HTTP_X_AMZ_TARGET": "TrentService.CreateKey",
                   "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/"
                                         f"{region}/kms/aws4_request, Signature=x",
                   "wsgi.input": io.BytesIO(b"{}"), "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "4599", "wsgi.url_scheme": "http"}
        seen: dict = {}

        def start_response(status, headers, exc_info=None, seen=seen):
            seen.update(s=status)
        body = b"".join(app(environ, start_response))
        assert seen["s"].startswith("400 ")
        assert json.loads(body) == {
            "__type": "InvalidSignatureException",
            "message": f"Credential should be scoped to a valid region, not '{region}'."}
    assert app.backend.stores == {} and len(app.backend.calls) == 0


def test_the_server_app_s_own_region_must_exist():
    assert make_app(region="eu-north-1").region == "eu-north-1"
    for region in MADE_UP:
        with pytest.raises(ValueError) as exc:
            make_app(region=region)
        assert str(exc.value) == ("region must be an AWS Region that botocore knows, like "
                                  f"'us-east-1'; got {region!r}")


# --- Regions named inside requests and seed files -----------------------------------------------

def test_replicate_key_and_update_primary_region_refuse_a_made_up_region(kms_mock, kms):
    key = kms.create_key(MultiRegion=True)["KeyMetadata"]
    key_id = key["KeyId"]
    for region in ["mars", *MADE_UP[1:]]:
        with pytest.raises(ClientError) as exc:
            kms.replicate_key(KeyId=key_id, ReplicaRegion=region)
        with pytest.raises(ClientError) as update:
            kms.update_primary_region(KeyId=key_id, PrimaryRegion=region)
        if region == "mars":  # not even of a Region's shape: the model's pattern refuses it
            for member, error in (("replicaRegion", exc), ("primaryRegion", update)):
                assert error_of(error) == (
                    "ValidationException", f"1 validation error detected: Value 'mars' at "
                    f"'{member}' failed to satisfy constraint: Member must satisfy regular "
                    "expression pattern: ^([a-z]+-){2,3}\\d+$")
            continue
        assert error_of(exc) == (
            "ValidationException", f"{region} is not a valid Region for a replica of "
            f"{key['Arn']}.")
        # no replica can be there: the key does not exist in that Region
        assert error_of(update) == (
            "NotFoundException", f"Key 'arn:aws:kms:{region}:123456789012:key/{key_id}' "
            "does not exist")
    assert _stored_regions() == {"us-east-1"}
    md = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert md["MultiRegionConfiguration"]["ReplicaKeys"] == []
    assert md["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_a_seed_naming_a_made_up_region_is_refused_whole(kms_mock, kms):
    for region in MADE_UP:
        doc = {"Version": 1, "Keys": [{"Description": "fine"},
                                      {"Region": region, "Aliases": ["alias/elsewhere"]}]}
        with pytest.raises(SeedError) as exc:
            load_seed(doc)
        if region != "mars":  # of a Region's shape, but not listed
            assert str(exc.value) == (
                f"<seed mapping>: Keys[1]: Region {region!r} is not an AWS Region (botocore's "
                "partition data does not list it)")
        else:
            assert str(exc.value) == (f"<seed mapping>: Keys[1]: Region {region!r} is not a "
                                      "region name like 'us-east-1'")
    assert kms.list_keys()["Keys"] == []  # all or nothing: the first key was not loaded either
    assert _stored_regions() <= {"us-east-1"}
    with pytest.raises(SeedError, match="Region 'us-east-9' is not an AWS Region"):
        load_seed({"Version": 1, "Keys": [{}]}, region="us-east-9")  # the default region too
    assert _stored_regions() <= {"us-east-1"}


# --- the mock's own region ---------------------------------------------------------------------

@pytest.fixture
def no_region(monkeypatch):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variables, expected", [
    ({}, "us-east-1"),
    ({"AWS_DEFAULT_REGION": "eu-north-1"}, "eu-north-1"),
    ({"AWS_REGION": "ap-south-1"}, "ap-south-1"),
    ({"AWS_DEFAULT_REGION": "eu-north-1", "AWS_REGION": "ap-south-1"}, "eu-north-1"),
    ({"AWS_DEFAULT_REGION": "", "AWS_REGION": "ap-south-1"}, "ap-south-1"),
])
def test_default_region_is_the_user_s(no_region, variables, expected):
    for name, value in variables.items():
        no_region.setenv(name, value)
    with mock_kms() as mock:
        assert mock.region == expected
        kms = boto3.client("kms")  # no region given: botocore reads the environment
        assert kms.meta.region_name == expected
        assert f":kms:{expected}:" in kms.create_key()["KeyMetadata"]["Arn"]
    with mock_kms(region="sa-east-1") as mock:  # an explicit region wins
        assert mock.region == boto3.client("kms").meta.region_name == "sa-east-1"


def test_region_is_read_when_the_mock_starts(no_region):
    mock = mock_kms()
    no_region.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    with mock:
        assert mock.region == "eu-west-3"
    no_region.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    with mock:
        assert mock.region == "eu-west-2"


def test_nested_mock_inherits_the_outer_region_and_everything_is_restored(no_region):
    no_region.setenv("AWS_REGION", "ca-central-1")
    with mock_kms(region="eu-south-1"):
        with mock_kms() as inner:
            assert inner.region == "eu-south-1"
        assert (os.environ["AWS_DEFAULT_REGION"], os.environ["AWS_REGION"]) == ("eu-south-1",
                                                                              "eu-south-1")
    assert "AWS_DEFAULT_REGION" not in os.environ and os.environ["AWS_REGION"] == "ca-central-1"


def test_option_wins_over_the_environment(no_region):
    no_region.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    previous = _mock._set_defaults(region="ap-northeast-3")
    try:
        assert mock_kms().region == "ap-northeast-3"
        assert mock_kms(region="us-west-1").region == "us-west-1"
    finally:
        _mock._restore_defaults(previous)
    assert mock_kms().region == "eu-north-1"


@pytest.mark.parametrize("name", ["AWS_DEFAULT_REGION", "AWS_REGION"])
def test_made_up_region_in_the_environment_is_refused_at_start(no_region, name):
    no_region.setenv(name, "mars")
    mock = mock_kms()   # made (e.g. by a decorator at import): not yet an error
    with pytest.raises(ValueError, match=f"mock_kms: {name} \\(the default region of mock_kms\\) "
                                         "must be an AWS Region that botocore knows, like "
                                         "'us-east-1'; got 'mars'"):
        mock.start()
    assert not mock.active and not _mock._stack
    with mock_kms(region="eu-west-1"):  # an explicit region does not read it
        pass
