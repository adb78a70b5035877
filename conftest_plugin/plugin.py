"""pytest plugin for mockkms: fixtures and the ``mock_kms`` marker.

Loaded automatically when mockkms is installed (``pytest11`` entry point).
"""
from __future__ import annotations

import pytest


@pytest.fixture
def kms_mock():
    """An active in-memory KMS with fresh state for this test; yields the MockKms object."""
    from mockkms import mock_kms

    with mock_kms() as mock:
        yield mock
