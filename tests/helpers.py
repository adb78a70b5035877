"""Helpers shared by mockkms's own test modules (import them as ``from helpers import ...``;
fixtures stay in conftest.py)."""
from __future__ import annotations


def error_of(excinfo) -> tuple[str, str]:
    """(code, message) of a botocore ClientError caught by pytest.raises."""
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")
