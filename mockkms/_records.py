"""The records a store holds besides keys: aliases, grants, custom key stores — and the backend's
scheduled events and registered principals. (Keys and their material versions are ``_keys``.)

Records are plain: explicit fields of simple values (strings, numbers, lists and dicts of them),
so they can be saved (``_persist``) and, later, kept in a database by an explicit schema. Handlers
build and change them; records import nothing from the handlers. ``entry()`` renders a record
the way the API lists it.
"""
from __future__ import annotations

from typing import NamedTuple

from ._pagination import OrderedIndex


class Alias:
    __slots__ = ("name", "arn", "target_key_id", "created", "updated")

    def __init__(self, name: str, arn: str, target_key_id: str | None, created: float):
        self.name = name
        self.arn = arn
        self.target_key_id = target_key_id
        self.created = created
        self.updated = created

    def entry(self) -> dict:
        out: dict[str, str | float] = {"AliasName": self.name, "AliasArn": self.arn}
        if self.target_key_id:
            out.update(TargetKeyId=self.target_key_id, CreationDate=self.created,
                       LastUpdatedDate=self.updated)
        return out


class Grant:
    """One grant on one key (it lives in the store of its key's account and Region)."""

    __slots__ = ("grant_id", "key_id", "key_arn", "name", "grantee", "grantee_service",
                 "retiring", "retiring_service", "operations", "constraints", "created",
                 "issuing_account")

    def __init__(self, *, grant_id: str, key_id: str, key_arn: str, name: str | None,
                 grantee: str | None, grantee_service: str | None, retiring: str | None,
                 retiring_service: str | None, operations: list[str],
                 constraints: dict | None, created: float, issuing_account: str):
        self.grant_id = grant_id
        self.key_id = key_id
        self.key_arn = key_arn
        self.name = name
        self.grantee = grantee
        self.grantee_service = grantee_service
        self.retiring = retiring
        self.retiring_service = retiring_service
        self.operations = operations
        self.constraints = constraints
        self.created = created
        self.issuing_account = issuing_account

    def entry(self) -> dict:
        out = {"KeyId": self.key_arn, "GrantId": self.grant_id, "CreationDate": self.created,
               "GranteePrincipal": self.grantee or self.grantee_service,
               "IssuingAccount": self.issuing_account, "Operations": list(self.operations)}
        if self.name is not None:
            out["Name"] = self.name
        if self.retiring or self.retiring_service:
            out["RetiringPrincipal"] = self.retiring or self.retiring_service
        if self.constraints:
            out["Constraints"] = self.constraints
        if self.grantee_service:
            out["GranteeServicePrincipal"] = self.grantee_service
        if self.retiring_service:
            out["RetiringServicePrincipal"] = self.retiring_service
        return out


class KeyGrants:
    """One key's grants: creation order (for paging) and grant ids by name (for idempotence)."""

    __slots__ = ("order", "by_name")

    def __init__(self) -> None:
        self.order = OrderedIndex()
        self.by_name: dict[str, list[str]] = {}


CLOUDHSM = "AWS_CLOUDHSM"
XKS = "EXTERNAL_KEY_STORE"
CONNECTED = "CONNECTED"
DISCONNECTED = "DISCONNECTED"
VPC = "VPC_ENDPOINT_SERVICE"


class CustomKeyStore:
    """One custom key store (CloudHSM or external) and its simulated connection."""

    __slots__ = ("store_id", "name", "store_type", "created", "state", "cluster_id",
                 "trust_anchor", "password", "uri_endpoint", "uri_path", "connectivity",
                 "vpc_service_name", "vpc_service_owner", "access_key_id", "secret",
                 "saved_states")

    def __init__(self, store_id: str, name: str, store_type: str, created: float):
        self.store_id = store_id
        self.name = name
        self.store_type = store_type
        self.created = created
        self.state = DISCONNECTED
        self.cluster_id: str | None = None
        self.trust_anchor: str | None = None
        self.password: str | None = None
        self.uri_endpoint: str | None = None
        self.uri_path: str | None = None
        self.connectivity: str | None = None
        self.vpc_service_name: str | None = None
        self.vpc_service_owner: str | None = None
        self.access_key_id: str | None = None
        self.secret: str | None = None
        # key id -> the key's state when the store was disconnected (restored on connect)
        self.saved_states: dict[str, str] = {}

    def __repr__(self) -> str:  # the password and the XKS secret never appear
        return f"CustomKeyStore({self.store_id}, {self.store_type}, {self.state})"

    def entry(self) -> dict:
        """CustomKeyStoresListEntry as DescribeCustomKeyStores returns it."""
        out = {"CustomKeyStoreId": self.store_id, "CustomKeyStoreName": self.name,
               "ConnectionState": self.state, "CreationDate": self.created,
               "CustomKeyStoreType": self.store_type}
        if self.store_type == CLOUDHSM:
            out["CloudHsmClusterId"] = self.cluster_id
            out["TrustAnchorCertificate"] = self.trust_anchor
        else:
            xks = {"Connectivity": self.connectivity, "AccessKeyId": self.access_key_id,
                   "UriEndpoint": self.uri_endpoint, "UriPath": self.uri_path}
            if self.connectivity == VPC:
                xks["VpcEndpointServiceName"] = self.vpc_service_name
                if self.vpc_service_owner:
                    xks["VpcEndpointServiceOwner"] = self.vpc_service_owner
            out["XksProxyConfiguration"] = xks
        return out


class Principal:
    """An IAM identity registered with the backend (``MockKms.principal``): a user, a role, a
    session of a role, or an account's root. Its identity policies are JSON texts, its tags a
    dict; credentials are the ones a client signs with. A session (``kind`` ``assumed-role``)
    takes its policies from its role (``role_arn``) at each request and adds its own session
    tags. What a request made with these credentials may do is ``_authz``'s."""

    __slots__ = ("arn", "account", "kind", "name", "user_id", "policies", "tags",
                 "access_key_id", "secret_access_key", "session_token", "role_arn", "created")

    def __init__(self, *, arn: str, account: str, kind: str, name: str, user_id: str,
                 policies: list[str], tags: dict[str, str], access_key_id: str,
                 secret_access_key: str, session_token: str | None = None,
                 role_arn: str | None = None, created: float = 0.0):
        self.arn = arn
        self.account = account
        self.kind = kind                    # "user", "role", "assumed-role" or "root"
        self.name = name                    # user or role name; a session's session name
        self.user_id = user_id              # aws:userid
        self.policies = policies            # identity policies, JSON texts
        self.tags = tags                    # principal tags (a session: its session tags)
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token  # sessions only
        self.role_arn = role_arn            # sessions: the role they are a session of
        self.created = created

    def __repr__(self) -> str:  # the secret and the session token never appear
        return f"Principal({self.arn})"


class Event(NamedTuple):
    """A scheduled event: at ``when``, ``kind`` happens to key ``key_id`` of the store
    (``account``, ``region``). Ordered by time, then by ``seq`` (scheduling order). The kinds
    and what they do are ``_lifecycle.EVENTS``."""

    when: float
    seq: int
    kind: str
    account: str
    region: str
    key_id: str
