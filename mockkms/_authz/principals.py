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

from .._journal import PRINCIPALS
from .._names import is_account_id
from .._records import Principal
from .._regions import partition as _partition_of

USER, ROLE, SESSION, ROOT = "user", "role", "assumed-role", "root"
DEFAULT_SESSION = "mockkms"

# The AWS service requests arrive through (``MockKms.via_service``): a service name such as
# "s3", or None for direct calls. A context variable: see ``MockKms.via_service`` for what
# threads and asyncio tasks inherit.
VIA_SERVICE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mockkms_via_service", default=None)

# IAM's name characters are ASCII: letters, digits and +=,.@_- (IAM's ``\w`` is ASCII)
_IAM_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):(user|role)(/(?:[\x21-\x7e]+/)?)"
                      r"([A-Za-z0-9_+=,.@-]{1,64})\Z")
_ROOT_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):root\Z")
_SESSION_NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{2,64}\Z")
# IAM's tag limits (the IAM API's Tag shape): keys 1 to 128 characters, values up to 256
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}\Z")
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # 32 characters: 5 random bits each


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


# (access key id, default account, partition, via, authorize) -> the root Caller (bounded)
_ROOTS: dict = {}


def identify(backend, access_key_id: str | None, default_account: str, region: str,
             authorize: bool = True) -> Caller:
    """The caller of a request signed with ``access_key_id`` (None: unsigned) for ``region``."""
    via = VIA_SERVICE.get()
    record = None
    if access_key_id:
        arn = backend.access_keys.get(access_key_id)
        if arn is not None:
            record = backend.principals.get(arn)
    if record is None:  # the common case: an account's root, remembered per signature
        partition = _partition_of(region)
        cache_key = (access_key_id, default_account, partition, via, authorize)
        caller = _ROOTS.get(cache_key)
        if caller is None:
            account = access_key_id if is_account_id(access_key_id) else default_account
            caller = root(account, partition, via, authorize)
            if len(_ROOTS) < 1024:
                _ROOTS[cache_key] = caller
        return caller
    if record.kind == ROOT:
        return root(record.account, _partition_of(region), via, authorize)
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

def shorthand(arn, account: str, region: str):
    """``user/<name>`` or ``role/<path/name>`` as the ARN of that principal in ``account``
    (anything else as given)."""
    if isinstance(arn, str) and arn.startswith(("user/", "role/")):
        return f"arn:{_partition_of(region)}:iam::{account}:{arn}"
    return arn


class Registration:
    """A checked request to register a principal (``prepare``), applied by ``register``."""

    __slots__ = ("arn", "account", "kind", "name", "policies", "tags", "fixed")

    def __init__(self, arn, account, kind, name, policies, tags, fixed):
        self.arn, self.account, self.kind, self.name = arn, account, kind, name
        self.policies, self.tags, self.fixed = policies, tags, fixed

    @property
    def signer_arn(self) -> str:
        """The ARN its credentials sign as (a role: its ``mockkms`` session)."""
        if self.kind == ROLE:
            return session_arn(self.arn, self.account, DEFAULT_SESSION)
        return self.arn

    def conflict(self, backend) -> str | None:
        """Why it cannot be applied to ``backend``, or None: a fixed access key id in use, or
        a user or role of the same name (IAM's names are unique in an account whatever the
        path, and compared without case) under another ARN — their sessions would be one."""
        if self.kind in (USER, ROLE) and self.arn not in backend.principals:
            name = self.name.lower()
            for other in backend.principals.values():
                if (other.kind == self.kind and other.account == self.account
                        and other.name.lower() == name):
                    return (f"{self.arn}: the account already has a {self.kind} named "
                            f"{other.name} ({other.arn}); IAM names are unique in an account, "
                            "whatever the path and case")
        if self.fixed is None:
            return None
        owner = backend.access_keys.get(self.fixed[0])
        if owner is not None and owner != self.signer_arn:
            return f"access key id {self.fixed[0]} belongs to {owner}"
        return None


def prepare(arn, policies=None, tags=None, access_key_id: str | None = None,
            secret_access_key: str | None = None) -> Registration:
    """The checked registration of the IAM user, role or root ``arn`` with identity
    ``policies`` (JSON texts or dicts), ``tags`` and, optionally, fixed credentials.
    ``ValueError`` for an ARN that is not an IAM user, role or root ARN, a malformed identity
    policy, bad tags or credentials."""
    if not isinstance(arn, str):
        raise ValueError(f"principal: the ARN must be a string, not {type(arn).__name__}")
    if policies is not None and not isinstance(policies, (list, tuple)):
        raise ValueError("principal: policies must be a list of policies")
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
    fixed = _fixed_credentials(access_key_id, secret_access_key)
    if root_match is not None:
        return Registration(arn, root_match.group(2), ROOT, "root", texts, tag_map, fixed)
    assert match is not None
    return Registration(arn, match.group(2), match.group(3), match.group(5), texts, tag_map,
                        fixed)


def register(backend, arn, policies=None, tags=None, now: float = 0.0, *,
             access_key_id: str | None = None,
             secret_access_key: str | None = None) -> Principal:
    """Register (or update) a principal (``prepare`` says what may be given); returns its
    record. Registering an ARN again replaces its policies and tags and keeps its credentials
    (unless fixed ones are given). Fixed credentials (``access_key_id``/``secret_access_key``;
    a role: its ``mockkms`` session's) replace random ones, for seed files and scripts."""
    return apply(backend, prepare(arn, policies, tags, access_key_id, secret_access_key), now)


def apply(backend, reg: Registration, now: float = 0.0) -> Principal:
    """Register ``reg`` in ``backend`` (``ValueError`` on a conflict, changing nothing)."""
    with backend.lock:
        problem = reg.conflict(backend)
        if problem is not None:
            raise ValueError(f"principal: {problem}")
        record = backend.principals.get(reg.arn)
        if record is not None:
            record.policies, record.tags = reg.policies, reg.tags
        else:
            user_id = reg.account if reg.kind == ROOT else \
                ("AIDA" if reg.kind == USER else "AROA") + _random_id(17)
            record = Principal(arn=reg.arn, account=reg.account, kind=reg.kind, name=reg.name,
                               user_id=user_id, policies=reg.policies, tags=reg.tags,
                               access_key_id="", secret_access_key="", created=now)
            backend.principals[reg.arn] = record
            if reg.kind != ROLE:
                _give_credentials(record, "AKIA")
                backend.access_keys[record.access_key_id] = reg.arn
        _changed(backend, record)
        if reg.fixed is not None:
            signer = default_session(backend, reg.arn) if reg.kind == ROLE else record
            _set_credentials(backend, signer, *reg.fixed)
            _changed(backend, signer)
        elif reg.kind == ROLE:
            default_session(backend, reg.arn)
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
        _changed(backend, record)
        return record


def _changed(backend, record: Principal) -> None:
    """Tell the backend's journal (a state directory writes it: ``_journal``)."""
    backend.journal.touch(PRINCIPALS, record.account, "", record.arn)


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


def check_service(service, where: str = "via_service") -> str:
    """A service name for ``via_service`` (``s3``, ``ec2``, ``secretsmanager``); ``where``
    names what gave it in the ``ValueError``."""
    if not isinstance(service, str) or not _SERVICE.match(service):
        raise ValueError(f"{where}: {service!r} is not an AWS service name like 's3'")
    return service


def check_switch(value, where: str) -> bool | None:
    """The ``authorization`` switch given to ``where`` (``mock_kms``, ``make_app``): True, False
    or None (the default). Anything else is a ``TypeError``: ``"false"`` would be true."""
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"{where}: authorization must be True, False or None (the default), not "
                    f"{value!r}")


_ACCESS_KEY = re.compile(r"^[A-Za-z0-9]{16,128}\Z")


def _fixed_credentials(access_key_id, secret_access_key):
    """The checked fixed credentials, or None when none are given."""
    if access_key_id is None and secret_access_key is None:
        return None
    if not isinstance(access_key_id, str) or not _ACCESS_KEY.match(access_key_id) or \
            is_account_id(access_key_id):
        raise ValueError(f"principal: AccessKeyId must be 16 to 128 letters and digits, not "
                         f"{access_key_id!r}")
    if not isinstance(secret_access_key, str) or not secret_access_key:
        raise ValueError("principal: a fixed AccessKeyId needs its SecretAccessKey")
    return access_key_id, secret_access_key


def _set_credentials(backend, record: Principal, access_key_id: str, secret: str) -> None:
    backend.access_keys.pop(record.access_key_id, None)
    record.access_key_id, record.secret_access_key = access_key_id, secret
    backend.access_keys[access_key_id] = record.arn


def _give_credentials(record: Principal, prefix: str) -> None:
    record.access_key_id = prefix + _random_id(16)
    record.secret_access_key = base64.b64encode(os.urandom(30)).decode()


def _random_id(n: int) -> str:
    return "".join(_ID_CHARS[b & 31] for b in os.urandom(n))


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
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX or len(value) > TAG_VALUE_MAX:
            raise ValueError(f"principal: tag keys are 1 to {TAG_KEY_MAX} characters and values "
                             f"at most {TAG_VALUE_MAX}, as in IAM; tag {key[:40]!r} has a key "
                             f"of {len(key)} and a value of {len(value)} characters")
    return dict(tags)
