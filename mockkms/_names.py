"""The shapes of AWS names: account ids, regions, key ids — one pattern each, and a predicate.

Only shapes (is this text an account id?), never lookups (which Regions exist is
``mockkms._regions``). A region is any ``xx-name-N`` text, its first part two to four letters
(``us-east-1``, ``us-gov-west-1``, ``cn-north-1``, ``eusc-de-east-1``): a region AWS has not
launched yet still fits. A key id is a lowercase UUID (single-Region keys) or ``mrk-`` and 32
lowercase hex digits (multi-Region keys); ``is_uuid`` accepts only the former.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeGuard  # Python 3.10+; annotations are not evaluated at run time

ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-[0-9]+$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MRK_ID = re.compile(r"^mrk-[0-9a-f]{32}$")


def is_account_id(value: object) -> TypeGuard[str]:
    """Exactly 12 ASCII digits (``123456789012``)."""
    return isinstance(value, str) and ACCOUNT_ID.fullmatch(value) is not None


def is_region(value) -> bool:
    """Looks like a region name (``us-east-1``)."""
    return isinstance(value, str) and REGION.fullmatch(value) is not None


def is_uuid(value) -> bool:
    """A lowercase UUID, the id of a single-Region key."""
    return isinstance(value, str) and UUID.fullmatch(value) is not None


def is_key_id(value) -> bool:
    """A key id: a lowercase UUID or a multi-Region ``mrk-`` id."""
    return isinstance(value, str) and (UUID.fullmatch(value) is not None
                                       or MRK_ID.fullmatch(value) is not None)
