"""Shared fixtures for mockkms's own tests (the public fixtures come from the plugin)."""
from __future__ import annotations

import boto3
import pytest

REGION = "us-east-1"


@pytest.fixture
def kms(kms_mock):
    """A boto3 KMS client talking to a fresh mock."""
    return boto3.client("kms", region_name=REGION)


@pytest.fixture
def key_id(kms):
    """A fresh symmetric customer managed key."""
    return kms.create_key(Description="test key")["KeyMetadata"]["KeyId"]


def error_of(excinfo) -> tuple[str, str]:
    """(code, message) of a botocore ClientError caught by pytest.raises."""
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")
