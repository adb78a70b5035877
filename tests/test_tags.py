"""Tags: TagResource, UntagResource, ListResourceTags and the tag rules of CreateKey — with
AWS's codes and messages."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from helpers import error_of

ACCOUNT = "123456789012"


def tags_of(kms, key_id, **kwargs):
    return kms.list_resource_tags(KeyId=key_id, **kwargs)["Tags"]


def test_tag_list_untag(kms, key_id):
    out = kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "env", "TagValue": "prod"},
                                               {"TagKey": "team", "TagValue": ""}])
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = kms.list_resource_tags(KeyId=key_id)
    assert listed["Tags"] == [{"TagKey": "env", "TagValue": "prod"},
                              {"TagKey": "team", "TagValue": ""}]
    assert listed["Truncated"] is False and "NextMarker" not in listed
    kms.untag_resource(KeyId=key_id, TagKeys=["env", "not-there"])  # a missing key is ignored
    assert tags_of(kms, key_id) == [{"TagKey": "team", "TagValue": ""}]
    kms.untag_resource(KeyId=key_id, TagKeys=["team"])
    assert tags_of(kms, key_id) == []
    kms.untag_resource(KeyId=key_id, TagKeys=["team"])  # untagging an untagged key succeeds


def test_tag_overwrites_in_place(kms):
    key_id = kms.create_key(Tags=[{"TagKey": "a", "TagValue": "1"},
                                  {"TagKey": "b", "TagValue": "2"}])["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "updated"},
                                         {"TagKey": "c", "TagValue": "3"}])
    assert tags_of(kms, key_id) == [{"TagKey": "a", "TagValue": "updated"},
                                    {"TagKey": "b", "TagValue": "2"},
                                    {"TagKey": "c", "TagValue": "3"}]


def test_tags_by_key_arn_but_not_alias(kms, key_id):
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    kms.tag_resource(KeyId=arn, Tags=[{"TagKey": "k", "TagValue": "v"}])
    assert tags_of(kms, arn) == [{"TagKey": "k", "TagValue": "v"}]
    kms.create_alias(AliasName="alias/tagged", TargetKeyId=key_id)
    for call in (lambda k: kms.tag_resource(KeyId=k, Tags=[{"TagKey": "k", "TagValue": "v"}]),
                 lambda k: kms.untag_resource(KeyId=k, TagKeys=["k"]),
                 lambda k: kms.list_resource_tags(KeyId=k)):
        with pytest.raises(kms.exceptions.NotFoundException) as exc:
            call("alias/tagged")
        assert error_of(exc)[1] == "Invalid keyId 'alias/tagged'"
        with pytest.raises(kms.exceptions.InvalidArnException):
            call(f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/tagged")
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.tag_resource(KeyId=missing, Tags=[{"TagKey": "k", "TagValue": "v"}])
    assert error_of(exc)[1] == f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' does not exist"


def test_tag_exceptions(kms, key_id):
    cases = [
        ([{"TagKey": "a", "TagValue": "1"}, {"TagKey": "a", "TagValue": "2"}],
         "Duplicate tag keys"),
        ([{"TagKey": "aws:thing", "TagValue": "1"}], "Tags beginning with aws: are reserved"),
        ([{"TagKey": "AWS:thing", "TagValue": "1"}], "Tags beginning with aws: are reserved"),
        ([{"TagKey": "Aws:thing", "TagValue": "1"}], "Tags beginning with aws: are reserved"),
    ]
    for tags, message in cases:
        with pytest.raises(kms.exceptions.TagException) as exc:
            kms.tag_resource(KeyId=key_id, Tags=tags)
        assert error_of(exc) == ("TagException", message)
        with pytest.raises(kms.exceptions.TagException) as exc:
            kms.create_key(Tags=tags)
        assert error_of(exc) == ("TagException", message)
    with pytest.raises(kms.exceptions.TagException) as exc:
        kms.untag_resource(KeyId=key_id, TagKeys=["AWS:cloudformation:stack-name"])
    assert error_of(exc) == ("TagException", "Tags beginning with aws: are reserved")
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "awsome", "TagValue": "fine"}])
    assert tags_of(kms, key_id) == [{"TagKey": "awsome", "TagValue": "fine"}]
    assert len(kms.list_keys()["Keys"]) == 1  # no failed CreateKey left a key behind


def test_fifty_tags_per_key(kms, key_id):
    with pytest.raises(kms.exceptions.TagException) as exc:
        kms.create_key(Tags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)])
    assert error_of(exc) == ("TagException", "Too many tags")
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(49)])
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k0", "TagValue": "again"},
                                         {"TagKey": "k49", "TagValue": "v"}])  # 50 in all
    with pytest.raises(kms.exceptions.TagException) as exc:
        kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k50", "TagValue": "v"}])
    assert error_of(exc) == ("TagException", "Too many tags")
    tags = tags_of(kms, key_id)
    assert len(tags) == 50 and tags[0] == {"TagKey": "k0", "TagValue": "again"}


def test_tag_lengths(kms, key_id):
    long_key, long_value = "k" * 129, "v" * 257
    with pytest.raises(ClientError) as exc:
        kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "ok", "TagValue": "v"},
                                             {"TagKey": long_key, "TagValue": "v"}])
    assert error_of(exc) == (
        "ValidationException",
        f"1 validation error detected: Value '{long_key}' at 'tags.2.member.tagKey' failed to "
        "satisfy constraint: Member must have length less than or equal to 128")
    with pytest.raises(ClientError) as exc:
        kms.create_key(Tags=[{"TagKey": "k", "TagValue": long_value}])
    assert error_of(exc) == (
        "ValidationException",
        f"1 validation error detected: Value '{long_value}' at 'tags.1.member.tagValue' failed "
        "to satisfy constraint: Member must have length less than or equal to 256")
    with pytest.raises(ClientError) as exc:
        kms.untag_resource(KeyId=key_id, TagKeys=[long_key])
    assert error_of(exc)[0] == "ValidationException"
    assert "at 'tagKeys.1.member'" in error_of(exc)[1]
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k" * 128, "TagValue": "v" * 256}])
    assert tags_of(kms, key_id) == [{"TagKey": "k" * 128, "TagValue": "v" * 256}]


def test_tags_and_key_states(kms, key_id):
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k", "TagValue": "v"}])
    kms.disable_key(KeyId=key_id)
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "d", "TagValue": "v"}])  # Disabled is fine
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    for call in (lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "x", "TagValue": "y"}]),
                 lambda: kms.untag_resource(KeyId=key_id, TagKeys=["k"])):
        with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
            call()
        assert error_of(exc) == ("KMSInvalidStateException", f"{arn} is pending deletion.")
    assert len(tags_of(kms, key_id)) == 2  # listing works in every state
    external = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=external, Tags=[{"TagKey": "k", "TagValue": "v"}])


def test_aws_managed_keys_cannot_be_tagged(kms):
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    for op, call in (("TagResource", lambda: kms.tag_resource(
                         KeyId=managed["KeyId"], Tags=[{"TagKey": "k", "TagValue": "v"}])),
                     ("UntagResource", lambda: kms.untag_resource(KeyId=managed["KeyId"],
                                                                  TagKeys=["k"]))):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == (
            "AccessDeniedException",
            f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: kms:{op} on "
            f"resource: {managed['Arn']} because no resource-based policy allows the kms:{op} "
            "action")
    assert tags_of(kms, managed["KeyId"]) == []


def test_list_resource_tags_pagination(kms, key_id):
    tags = [{"TagKey": f"k{i:02}", "TagValue": str(i)} for i in range(23)]
    kms.tag_resource(KeyId=key_id, Tags=tags)
    seen, marker = [], None
    while True:
        out = kms.list_resource_tags(KeyId=key_id, Limit=10,
                                     **({"Marker": marker} if marker else {}))
        assert len(out["Tags"]) <= 10
        seen += out["Tags"]
        if not out["Truncated"]:
            break
        marker = out["NextMarker"]
    assert seen == tags
    pages = kms.get_paginator("list_resource_tags").paginate(KeyId=key_id,
                                                             PaginationConfig={"PageSize": 7})
    assert [t for p in pages for t in p["Tags"]] == tags
    with pytest.raises(ClientError) as exc:
        kms.list_resource_tags(KeyId=key_id, Limit=51)
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 50")
    with pytest.raises(kms.exceptions.InvalidMarkerException):
        kms.list_resource_tags(KeyId=key_id, Marker="forged")
