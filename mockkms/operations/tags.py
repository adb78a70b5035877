"""Tags: TagResource, UntagResource, ListResourceTags, and the tag rules CreateKey and
ReplicateKey share (``check_new_tags``).

Rules (../shared/kms-facts.md §4.6): duplicate keys in one request, keys starting ``aws:`` in
any case, and more than 50 tags on a key are ``TagException`` (``Duplicate tag keys``, ``Tags
beginning with aws: are reserved``, ``Too many tags``); lengths are the model's (validator).
TagResource overwrites an existing key's value in place (tags keep their first-tagged order);
UntagResource ignores keys that are not there. Both refuse keys pending deletion and AWS managed
keys; ListResourceTags works on every key in every state.

Choices where AWS is silent: TagResource that would take a key past 50 tags answers
``TagException: Too many tags`` like CreateKey (the model also lists LimitExceededException,
which the mock never sends here). UntagResource of an ``aws:`` key answers the same
``TagException`` as tagging one (UNCONFIRMED; it is the only TagException UntagResource can meet).
"""
from __future__ import annotations

from .. import _errors as E
from .._pagination import check_limit, page, response, scope

MAX_TAGS = 50


def check_new_tags(new_tags: list[dict], existing: dict | None) -> None:
    """TagException for duplicate keys, reserved ``aws:`` keys or more than 50 tags."""
    keys = [t["TagKey"] for t in new_tags]
    if len(set(keys)) != len(keys):
        raise E.TagException("Duplicate tag keys")
    if any(k.lower().startswith("aws:") for k in keys):
        raise E.TagException("Tags beginning with aws: are reserved")
    if len(set(keys) | set(existing or ())) > MAX_TAGS:
        raise E.TagException("Too many tags")


def requested_tags(p: dict) -> dict | None:
    """The ``Tags`` of a CreateKey/ReplicateKey request, checked, as a dict (None if absent)."""
    if not p.get("Tags"):
        return None
    check_new_tags(p["Tags"], existing=None)
    return {t["TagKey"]: t["TagValue"] for t in p["Tags"]}


def tag_list(tags: dict | None) -> list[dict]:
    """A key's tags as the API lists them."""
    return [{"TagKey": k, "TagValue": v} for k, v in (tags or {}).items()]


def tag_resource(ctx, p):
    key = ctx.key()
    check_new_tags(p["Tags"], key.tags)
    merged = dict(key.tags or {})
    merged.update((t["TagKey"], t["TagValue"]) for t in p["Tags"])
    key.tags = merged


def untag_resource(ctx, p):
    key = ctx.key()
    if any(k.lower().startswith("aws:") for k in p["TagKeys"]):
        raise E.TagException("Tags beginning with aws: are reserved")
    if key.tags:
        for name in p["TagKeys"]:
            key.tags.pop(name, None)


def list_resource_tags(ctx, p):
    key = ctx.key()
    limit = check_limit(p.get("Limit"), 50, 50)
    items = tag_list(key.tags)
    chunk, nxt = page(items, p.get("Marker"), limit, scope(ctx, key.key_id))
    return response("Tags", chunk, nxt)
