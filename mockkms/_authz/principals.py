"""Who is calling: registered IAM principals, the ``Caller`` of one request, and the AWS service
a request arrives through.

Registered principals are plain records (``_records.Principal``) on the backend:
``backend.principals`` (ARN -> record) and ``backend.access_keys`` (access key id -> ARN), so
they are reset, snapshotted and restored with the rest of the backend's state. ``register``
adds an IAM user, an IAM role or an account's root; ``assume`` a session of a registered role.

``identify`` turns a request's access key id into its ``Caller``: a registered user or role
session, else the root of an account — the account the access key id names when it is exactly
12 digits, else the mock's default account (``_transport.resolve`` calls it; nothing else
decides who is calling).

Choices (../shared/kms-authz-facts.md §9, §11.2):
* A role cannot sign requests in AWS, only its sessions can. A registered role's own
  credentials are those of its session named ``mockkms``
  (``arn:aws:sts::<account>:assumed-role/<role>/mockkms``); ``assume(role, name)`` makes others.
* Assuming a session name again replaces that session's tags (the session ARN is the same);
  its earlier credentials keep working.
* A session's identity policies are its role's, read at each request (changing the role's
  policies changes what its sessions may do at once); its tags are the role's tags overridden by
  the session tags given to ``assume``.
* Access key ids look like AWS's (``AKIA…`` for users, ``ASIA…`` for sessions); they are never 12
  digits, so they never select an account.
"""
from __future__ import annotations

import base64
import contextvars
import functools
import json
import os
import re
import secrets
import string

from .._keyspecs import partition as _partition_of
from .._names import is_account_id
from .._records import Principal

USER, ROLE, SESSION, ROOT = "user", "role", "assumed-role", "root"
DEFAULT_SESSION = "mockkms"

# The AWS service requests arrive through (``MockKms.via_service``): a service name such as
# "s3", or None for direct calls. A context variable: see ``MockKms.via_service`` for what
# threads and asyncio tasks inherit.
VIA_SERVICE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mockkms_via_service", default=None)

_IAM_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):(user|role)(/(?:[\x21-\x7e]+/)?)"
                      r"([\w+=,.@-]{1,64})$")
_ROOT_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):root$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")
_ID_CHARS = string.ascii_uppercase + "234567"


class Caller:
    """Who one request comes from, as the evaluation sees it.

    ``arn``: the ARN AWS shows in messages (a session's ARN for a role session);
    ``principal_arn``: ``aws:PrincipalArn`` (the role's ARN for a session, the root ARN for
    root); ``type``: ``aws:PrincipalType`` (User, AssumedRole, Account); ``policies``: identity
    policy texts (root has none and needs none: it has every IAM permission); ``tags``: principal
    tags by lower-cased key; ``via``: the service the request arrives through (or None);
    ``authorize``: False when the mock evaluates no permissions (``authorization=False``)."""

    __slots__ = ("arn", "principal_arn", "account", "partition", "type", "username", "userid",
                 "policies", "tags", "root", "via", "authorize")

    def __init__(self, *, arn: str, principal_arn: str, account: str, partition: str,
                 type: str, username: str | None, userid: str, policies: tuple = (),
                 tags: dict | None = None, root: bool = False, via: str | None = None,
                 authorize: bool = True):
        self.arn = arn
        self.principal_arn = principal_arn
        self.account = account
        self.partition = partition
        self.type = type
        self.username = username
        self.userid = userid
        self.policies = policies
        self.tags = tags or {}
        self.root = root
        self.via = via
        self.authorize = authorize

    def __repr__(self) -> str:
        return f"Caller({self.arn}{', via ' + self.via if self.via else ''})"


@functools.lru_cache(maxsize=1024)
def root(account: str, partition: str = "aws", via: str | None = None,
         authorize: bool = True) -> Caller:
    """The root user of ``account`` (shared: callers are never changed)."""
    arn = f"arn:{partition}:iam::{account}:root"
    return Caller(arn=arn, principal_arn=arn, account=account, partition=partition,
                  type="Account", username=None, userid=account, root=True, via=via,
                  authorize=authorize)


def identify(backend, access_key_id: str | None, default_account: str, region: str,
             authorize: bool = True) -> Caller:
    """The caller of a request signed with ``access_key_id`` (None: unsigned) for ``region``."""
    via = VIA_SERVICE.get()
    arn = backend.access_keys.get(access_key_id) if access_key_id else None
    record = backend.principals.get(arn) if arn is not None else None
    if record is None or record.kind == ROOT:
        if record is not None:
            account = record.account
        elif is_account_id(access_key_id):
            account = access_key_id
        else:
            account = default_account
        return root(account, _partition_of(region), via, authorize)
    partition = record.arn.split(":", 2)[1]
    if record.kind == SESSION:
        role = backend.principals.get(record.role_arn)
        policies = tuple(role.policies) if role is not None else ()
        tags = dict(role.tags) if role is not None else {}
        tags.update(record.tags)
        return Caller(arn=record.arn, principal_arn=record.role_arn, account=record.account,
                      partition=partition, type="AssumedRole", username=None,
                      userid=record.user_id, policies=policies, tags=_lower(tags), via=via,
                      authorize=authorize)
    return Caller(arn=record.arn, principal_arn=record.arn, account=record.account,
                  partition=partition, type="User", username=record.name,
                  userid=record.user_id, policies=tuple(record.policies),
                  tags=_lower(record.tags), via=via, authorize=authorize)


def _lower(tags: dict) -> dict:
    return {k.lower(): v for k, v in tags.items()}


# --- registration ----------------------------------------------------------------------------

def register(backend, arn: str, policies=None, tags=None, now: float = 0.0) -> Principal:
    """Register (or update) the IAM user, role or root ``arn`` with identity ``policies``
    (JSON texts or dicts) and ``tags``; returns its record. Registering an ARN again replaces
    its policies and tags and keeps its credentials. ``ValueError`` for an ARN that is not an
    IAM user, role or root ARN, a malformed identity policy, or bad tags."""
    if not isinstance(arn, str):
        raise ValueError(f"principal: the ARN must be a string, not {type(arn).__name__}")
    texts = [_policy_text(p) for p in (policies or ())]
    tag_map = _tags(tags)
    match = _IAM_ARN.match(arn)
    root_match = _ROOT_ARN.match(arn) if match is None else None
    if match is None and root_match is None:
        raise ValueError(
            f"principal: {arn!r} is not an IAM user, role or root ARN, like "
            "'arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:role/app' or "
            "'arn:aws:iam::111122223333:root' (use role.assume(name) for a role session)")
    if root_match is not None and (texts or tag_map):
        raise ValueError("principal: an account's root has every IAM permission and no tags; "
                         "give it no policies or tags")
    with backend.lock:
        existing = backend.principals.get(arn)
        if existing is not None:
            existing.policies, existing.tags = texts, tag_map
            return existing
        if root_match is not None:
            account, kind, name, user_id = root_match.group(2), ROOT, "root", root_match.group(2)
        else:
            account, kind, name = match.group(2), match.group(3), match.group(5)
            user_id = ("AIDA" if kind == USER else "AROA") + _random_id(17)
        record = Principal(arn=arn, account=account, kind=kind, name=name, user_id=user_id,
                           policies=texts, tags=tag_map, access_key_id="",
                           secret_access_key="", created=now)
        if kind != ROLE:
            _give_credentials(record, "AKIA")
            backend.access_keys[record.access_key_id] = arn
        backend.principals[arn] = record
        if kind == ROLE:
            assume(backend, arn, DEFAULT_SESSION, now=now)
        return record


def assume(backend, role_arn: str, session_name: str, tags=None, now: float = 0.0) -> Principal:
    """A new session of the registered role ``role_arn`` (new credentials; session ``tags``)."""
    if not isinstance(session_name, str) or not _SESSION_NAME.match(session_name):
        raise ValueError(f"assume: the session name must be 2 to 64 characters of letters, "
                         f"digits and +=,.@_-, not {session_name!r}")
    tag_map = _tags(tags)
    with backend.lock:
        role = backend.principals.get(role_arn)
        if role is None or role.kind != ROLE:
            raise ValueError(f"assume: {role_arn} is not a registered role")
        arn = session_arn(role_arn, role.account, session_name)
        record = Principal(arn=arn, account=role.account, kind=SESSION, name=session_name,
                           user_id=f"{role.user_id}:{session_name}", policies=[], tags=tag_map,
                           access_key_id="", secret_access_key="", role_arn=role_arn,
                           created=now)
        _give_credentials(record, "ASIA")
        record.session_token = base64.b64encode(os.urandom(96)).decode()
        backend.principals[arn] = record
        backend.access_keys[record.access_key_id] = arn
        return record


def session_arn(role_arn: str, account: str, session_name: str) -> str:
    """The ARN of a role's session: the role's path is dropped."""
    partition, name = role_arn.split(":", 2)[1], role_arn.rsplit("/", 1)[1]
    return f"arn:{partition}:sts::{account}:assumed-role/{name}/{session_name}"


def default_session(backend, role_arn: str) -> Principal:
    """The session whose credentials a registered role's own credentials are."""
    role = backend.principals[role_arn]
    return backend.principals.get(session_arn(role_arn, role.account, DEFAULT_SESSION)) or \
        assume(backend, role_arn, DEFAULT_SESSION)


def credentials(record: Principal) -> dict:
    """What ``boto3.client("kms", **credentials)`` accepts."""
    out = {"aws_access_key_id": record.access_key_id,
           "aws_secret_access_key": record.secret_access_key}
    if record.session_token:
        out["aws_session_token"] = record.session_token
    return out


def check_service(service) -> str:
    """A service name for ``via_service`` (``s3``, ``ec2``, ``secretsmanager``)."""
    if not isinstance(service, str) or not _SERVICE.match(service):
        raise ValueError(f"via_service: {service!r} is not an AWS service name like 's3'")
    return service


def _give_credentials(record: Principal, prefix: str) -> None:
    record.access_key_id = prefix + _random_id(16)
    record.secret_access_key = base64.b64encode(os.urandom(30)).decode()


def _random_id(n: int) -> str:
    return "".join(secrets.choice(_ID_CHARS) for _ in range(n))


def _policy_text(policy) -> str:
    from .checks import check_identity_policy
    if isinstance(policy, dict):
        text = json.dumps(policy)
    elif isinstance(policy, str):
        text = policy
    else:
        raise ValueError(f"principal: a policy must be a JSON text or a dict, not "
                         f"{type(policy).__name__}")
    check_identity_policy(text)
    return text


def _tags(tags) -> dict:
    if tags is None:
        return {}
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in tags.items()):
        raise ValueError("principal: tags must be a dict of strings")
    return dict(tags)
