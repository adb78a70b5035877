"""Raw request bodies for the fuzz tests (in process and against a server): hand-written
malformed, non-object, wrongly typed, deeply nested and 10 MB ones, odd targets, and hypothesis
bodies mangled from shape-built parameters."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os

from hypothesis import strategies as st

NESTING = 100_000
TEN_MB = 10 * 1024 * 1024


# --- hand-written bodies ------------------------------------------------------------------------

MALFORMED = [b"{", b"}", b"{'KeyId': 'x'}", b'{"KeyId": }', b'{"KeyId" "x"}', b"nul", b"[1,2",
             b"{}}", b'{"KeyId": "x",}', b"\xff\xfe\x00", b"\x00" * 16, b'{"KeyId": "\\x41"}',
             b'{"KeyId": "\xc3\x28"}', b"NaN", b"--", "{\"KeyId\": \"\u2028\"".encode()]
NON_OBJECT = [b"[]", b"1", b"-0", b"null", b'"x"', b"true", b"1e400", b"[{}]", b'""']
WRONG_TYPES = [
    {"KeyId": 1}, {"KeyId": []}, {"KeyId": {}}, {"KeyId": None}, {"KeyId": True},
    {"KeyId": 1.5}, {"Plaintext": 5}, {"Plaintext": "!!not base64!!"}, {"Plaintext": "QQ="},
    {"CiphertextBlob": ["x"]}, {"Limit": "1"}, {"Limit": 1.5}, {"Limit": True},
    {"Limit": 1e300}, {"Limit": -(2 ** 80)}, {"Tags": {}}, {"Tags": [1]}, {"Tags": [None]},
    {"Tags": [{"TagKey": 1, "TagValue": []}]}, {"EncryptionContext": []},
    {"EncryptionContext": {"a": 1}}, {"EncryptionContext": {"a": None}},
    {"GrantTokens": "token"}, {"GrantTokens": [1, 2]}, {"ValidTo": "tomorrow"},
    {"ValidTo": 1e300}, {"DryRun": "true"}, {"NumberOfBytes": "32"}, {"Operations": "Encrypt"},
    {"Constraints": []}, {"Constraints": {"EncryptionContextEquals": [1]}},
    {"Recipient": "x"}, {"XksProxyAuthenticationCredential": 7},
]


def _deep_lists(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _deep_objects(n: int) -> bytes:
    return b'{"a":' * n + b"1" + b"}" * n


def _body_cases() -> list[tuple[str, bytes | str | None]]:
    cases = [(f"malformed-{i}", b) for i, b in enumerate(MALFORMED)]
    cases += [(f"non-object-{i}", b) for i, b in enumerate(NON_OBJECT)]
    cases += [(f"wrong-type-{i}", json.dumps(d).encode()) for i, d in enumerate(WRONG_TYPES)]
    cases += [
        ("empty", b""), ("none", None), ("str-body", '{"KeyId": "é"}'),
        ("unknown-members", json.dumps({"Bogus": {"x": [1, {"y": None}]}, "keyid": "x",
                                        "__type": "x", "KeyID": 1}).encode()),
        ("deep-lists", _deep_lists(NESTING)),
        ("deep-objects", _deep_objects(NESTING)),
        ("deep-member", b'{"KeyId": ' + _deep_lists(NESTING) + b"}"),
        ("deep-tags", b'{"Tags": ' + _deep_lists(NESTING) + b"}"),
        ("deep-moderate", b'{"KeyId": ' + _deep_lists(900) + b"}"),
    ]
    return cases


BODY_CASES = _body_cases()
HUGE_CASES = [
    ("10MB-string-member", lambda: b'{"KeyId": "' + b"A" * TEN_MB + b'", "Description": "'
     + b"B" * 64 + b'"}'),
    ("10MB-garbage", lambda: os.urandom(TEN_MB)),
    ("10MB-blob-member", lambda: b'{"Plaintext": "' + base64.b64encode(b"\x00" * (TEN_MB // 4 * 3))
     + b'", "CiphertextBlob": "QUJD"}'),
    ("10MB-unknown-member", lambda: b'{"Unknown": "' + b"C" * TEN_MB + b'"}'),
]
TARGETS = ["TrentService.Nope", "TrentService.", "Trent.CreateKey", "trentservice.CreateKey",
           "TrentService.createKey", "TrentService.CreateKey ", " TrentService.CreateKey",
           "TrentService.CreateKey\x00", "TrentService.TrentService.CreateKey", "TrentService.*",
           "TrentService.__init__", "TrentService.ListKeys/../CreateKey", "", None,
           "TrentService." + "A" * 100_000, "X-Amz-Target"]

# --- hypothesis: shape-built parameters, then mangled ---------------------------------------------

def _jsonable(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc).timestamp()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=10)


@st.composite
def mangled(draw, params_strategy, member_names):
    params = _jsonable(draw(params_strategy))
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        how = draw(st.sampled_from(["replace", "unknown", "null", "drop"]))
        if how == "replace" and member_names:
            params[draw(st.sampled_from(member_names))] = draw(ANY_JSON)
        elif how == "unknown":
            params[draw(st.text(min_size=1, max_size=10))] = draw(ANY_JSON)
        elif how == "null" and member_names:
            params[draw(st.sampled_from(member_names))] = None
        elif how == "drop" and params:
            params.pop(draw(st.sampled_from(sorted(params))))
    text = json.dumps(params)
    cut = draw(st.sampled_from(["whole", "whole", "whole", "truncate", "append"]))
    if cut == "truncate":
        text = text[:draw(st.integers(min_value=0, max_value=len(text)))]
    elif cut == "append":
        text += draw(st.sampled_from(["}", "]", ",", " ", "x", "\x00", "{}"]))
    return text.encode("utf-8", "surrogatepass")
