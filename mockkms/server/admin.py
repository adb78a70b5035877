"""The admin endpoints of server mode, under ``/_mockkms/``, JSON in and out; ``KmsApp``
(``server.app``) routes to them once it has checked who may ask:

* ``GET /_mockkms/health`` → ``{"status": "ok"}``
* ``GET /_mockkms/state`` → counts of keys per account, region and key state, aliases, grants,
  custom key stores, scheduled events, the clock offset, the state file, and the id of the
  process that answered (``--workers``: which worker).

With a state directory, each endpoint runs in a transaction of its database
(``Backend.transaction``): what it changes is written before it answers.
* ``POST /_mockkms/reset`` → empties all state (the clock goes back to real time).
* ``POST /_mockkms/principals`` with ``{"Arn": "arn:aws:iam::111122223333:role/app",
  "Policies": [...], "Tags": {...}}`` (``Policies``, ``Tags`` optional; ``AccessKeyId`` and
  ``SecretAccessKey`` to fix the credentials) → registers (or updates) that IAM user, role or
  root, as ``MockKms.principal`` does, and answers ``{"Arn": ..., "CallerArn": ...,
  "Credentials": {"AccessKeyId": ..., "SecretAccessKey": ..., "SessionToken": ...}}``
  (``CallerArn``: who requests signed with them come from; a role's are its ``mockkms``
  session's; ``SessionToken`` only for sessions).
* ``POST /_mockkms/assume-role`` with ``{"RoleArn": ..., "RoleSessionName": ..., "Tags":
  {...}}`` → a new session of a registered role, answered the same way.
* ``Arn``/``RoleArn`` may be short, as in seed files: ``"user/alice"``, ``"role/app"`` are of
  the server's account (``_authz.principals.shorthand``).
* ``POST /_mockkms/advance`` with ``{"days": .., "hours": .., "minutes": .., "seconds": ..}`` →
  moves the mock's clock forward and applies what falls due (deletions, rotations, expiry), like
  ``MockKms.advance``. The clock may not pass ``_clock.MAX_CLOCK`` (the end of year 9989);
  a request that would move it further, or a value that is not a finite non-negative number,
  is a 400 and changes nothing.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
from typing import TYPE_CHECKING, Callable

from .errors import HttpError

if TYPE_CHECKING:
    from .._records import Principal
    from .app import KmsApp

_ADVANCE_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


def health(app: KmsApp, body: bytes) -> dict:
    return {"status": "ok"}


def reset(app: KmsApp, body: bytes) -> dict:
    backend = app.backend
    with backend.transaction(True):
        backend.reset()
    return {"status": "ok"}


def _json(body: bytes) -> object:
    """The JSON value of a request's body (``{}`` when empty)."""
    try:
        return json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise HttpError(400, "SerializationException",
                        "Malformed JSON in request body.") from None


def _json_object(body: bytes, fields: set) -> dict:
    """The JSON object of a request's body, with no members but ``fields``."""
    spec = _json(body)
    if not isinstance(spec, dict):
        raise HttpError(400, "ValidationException", "Expected a JSON object.")
    if set(spec) - fields:
        raise HttpError(400, "ValidationException",
                        f"Unknown member(s) {', '.join(sorted(set(spec) - fields))}; expected "
                        f"{', '.join(sorted(fields))}.")
    return spec


def principal(app: KmsApp, body: bytes) -> dict:
    from .._authz import principals
    spec = _json_object(body, {"Arn", "Policies", "Tags", "AccessKeyId", "SecretAccessKey"})
    if "Arn" not in spec:
        raise HttpError(400, "ValidationException", "Arn is required.")
    backend = app.backend
    try:
        with backend.transaction(True):
            record = principals.register(
                backend, principals.shorthand(spec["Arn"], app.account_id, app.region),
                spec.get("Policies"), spec.get("Tags"),
                backend.clock.now(), access_key_id=spec.get("AccessKeyId"),
                secret_access_key=spec.get("SecretAccessKey"))
            signer = principals.default_session(backend, record.arn) \
                if record.kind == principals.ROLE else record
    except ValueError as exc:
        raise HttpError(400, "ValidationException", str(exc)) from None
    return _credentials_answer(record.arn, signer)


def assume_role(app: KmsApp, body: bytes) -> dict:
    from .._authz import principals
    spec = _json_object(body, {"RoleArn", "RoleSessionName", "Tags"})
    role_arn, name = spec.get("RoleArn"), spec.get("RoleSessionName")
    if not isinstance(role_arn, str) or not isinstance(name, str):
        raise HttpError(400, "ValidationException",
                        "RoleArn and RoleSessionName are required strings.")
    backend = app.backend
    try:
        with backend.transaction(True):
            session = principals.assume(
                backend, principals.shorthand(role_arn, app.account_id, app.region), name,
                spec.get("Tags"), backend.clock.now())
    except ValueError as exc:
        raise HttpError(400, "ValidationException", str(exc)) from None
    return _credentials_answer(session.arn, session)


def _credentials_answer(arn: str, signer: Principal) -> dict:
    from .._authz.principals import credentials
    creds = credentials(signer)
    out = {"AccessKeyId": creds["aws_access_key_id"],
           "SecretAccessKey": creds["aws_secret_access_key"]}
    if "aws_session_token" in creds:
        out["SessionToken"] = creds["aws_session_token"]
    return {"Arn": arn, "CallerArn": signer.arn, "Credentials": out}


def advance(app: KmsApp, body: bytes) -> dict:
    spec = _json(body)
    if (not isinstance(spec, dict) or not spec or set(spec) - set(_ADVANCE_UNITS)
            or not all(type(v) in (int, float) and math.isfinite(v) and v >= 0
                       for v in spec.values())):
        raise HttpError(400, "ValidationException",
                        "Expected a JSON object with finite, non-negative numbers for any "
                        "of: " + ", ".join(_ADVANCE_UNITS))
    backend = app.backend
    with backend.transaction(True):  # check and move at once: two advances cannot both pass
        try:
            seconds = _dt.timedelta(**spec).total_seconds()
        except OverflowError:
            seconds = math.inf
        try:
            backend.clock.advance(seconds)
        except ValueError as exc:
            raise HttpError(400, "ValidationException", str(exc)) from None
        backend.journal.meta()
        backend.tick()
        offset, now = backend.clock._offset, backend.clock.now()
    return {"status": "ok", "clock_offset": offset, "now": now}


def summary(app: KmsApp, body: bytes) -> dict:
    backend = app.backend
    accounts: dict = {}
    totals: dict = {}
    keys = 0
    with backend.transaction(False):
        for (account, region), store in backend.stores.items():
            if not (store.keys or store.aliases or store.grants or store.custom_key_stores):
                continue
            states: dict = {}
            for key in store.keys.values():
                states[key.state] = states.get(key.state, 0) + 1
                totals[key.state] = totals.get(key.state, 0) + 1
            keys += len(store.keys)
            accounts.setdefault(account, {})[region] = {
                "keys": len(store.keys), "key_states": states,
                "aliases": len(store.aliases), "grants": len(store.grants),
                "custom_key_stores": len(store.custom_key_stores)}
        events = len(backend.events)
        offset = backend.clock._offset
        now = backend.clock.now()
    return {"keys": keys, "key_states": totals, "accounts": accounts,
            "scheduled_events": events, "clock_offset": offset, "now": now,
            "state_file": app.state.file if app.state is not None else None,
            "pid": os.getpid()}


# endpoint name -> (HTTP method, what answers it)
ROUTES: dict[str, tuple[str, Callable[[KmsApp, bytes], dict]]] = {
    "health": ("GET", health), "state": ("GET", summary), "reset": ("POST", reset),
    "advance": ("POST", advance), "principals": ("POST", principal),
    "assume-role": ("POST", assume_role)}
