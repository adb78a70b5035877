"""Custom key stores: CreateCustomKeyStore, DescribeCustomKeyStores, UpdateCustomKeyStore,
ConnectCustomKeyStore, DisconnectCustomKeyStore, DeleteCustomKeyStore — and what CreateKey
(``store_for_new_key``) and GenerateRandom (``require_connected``) need from them.

There is no CloudHSM cluster and no external key store proxy: the connection is a state machine
held in memory, and keys in a custom key store hold real AES-256 material in memory like any
other symmetric key. ``store.custom_key_stores`` maps the store id to a
``_records.CustomKeyStore``.

Choices where AWS is silent or unrecorded (see docs/multi-region-and-custom-key-stores.md):
* ConnectCustomKeyStore succeeds at once (DISCONNECTED → CONNECTED); DisconnectCustomKeyStore
  likewise (→ DISCONNECTED). CONNECTING, DISCONNECTING and FAILED never occur. Connecting a store
  that is already CONNECTED succeeds and changes nothing (AWS: "valid for all other states").
* Every well-formed CloudHSM cluster id "exists", is active and related to any other; every
  XKS proxy is reachable and every XksKeyId names a usable external key.
* Disconnecting a store makes its keys ``Unavailable``, except keys in PendingDeletion (they stay
  so, and CancelKeyDeletion works). Reconnecting restores each key's state from before the
  disconnect; EnableKey/DisableKey on an Unavailable key are remembered and take effect on
  reconnect ("takes effect once available"). These are ``_lifecycle``'s.
* DeleteCustomKeyStore checks the connection state first, then for keys (a key pending deletion
  still counts: it is deleted only when its window ends).
* Names are unique per account and Region (stores live per Region); so are CloudHSM cluster ids,
  XKS proxy URIs (endpoint + path), VPC endpoint services, and the endpoint of a store with
  VPC_ENDPOINT_SERVICE connectivity.
* Messages for errors AWS documents without text are written in AWS's plain style; parameters
  that do not fit the store type are rejected with ValidationException, as are CustomKeyStoreId
  and CustomKeyStoreName together in DescribeCustomKeyStores ("but not both").
* DescribeCustomKeyStores pages with Limit 1–1000, default 1000 (AWS documents no default), in
  creation order.
* CreateKey: a CustomKeyStoreId with an Origin other than AWS_CLOUDHSM/EXTERNAL_KEY_STORE, an
  Origin that does not match the store's type, or a missing XksKeyId/CustomKeyStoreId is a
  ValidationException; a non-symmetric key spec is UnsupportedOperationException.
* GenerateRandom with the id of an external key store: UnsupportedOperationException (AWS
  generates random bytes only in CloudHSM clusters).
"""
from __future__ import annotations

import os

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _lifecycle
from .._journal import CUSTOM_KEY_STORES
from .._keys import Material
from .._pagination import check_limit, page, response, scope
from .._records import CLOUDHSM, CONNECTED, DISCONNECTED, VPC, XKS, CustomKeyStore

STORE_QUOTA = 10
PUBLIC = "PUBLIC_ENDPOINT"

_CLOUDHSM_PARAMS = ("CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword")
_XKS_PARAMS = ("XksProxyUriEndpoint", "XksProxyUriPath", "XksProxyConnectivity",
               "XksProxyAuthenticationCredential", "XksProxyVpcEndpointServiceName",
               "XksProxyVpcEndpointServiceOwner")


# --- lookup and shared rules ---------------------------------------------------------------

def _find(ctx, store_id: str) -> CustomKeyStore:
    cks = ctx.store.custom_key_stores.get(store_id)
    if cks is None:
        raise E.CustomKeyStoreNotFoundException(
            f"Custom key store '{store_id}' does not exist in this account and Region.")
    ctx.backend.journal.found(CUSTOM_KEY_STORES, ctx.account, ctx.region, store_id)
    return cks


def _invalid_state(cks: CustomKeyStore, action: str) -> E.KMSError:
    return E.CustomKeyStoreInvalidStateException(
        f"Custom key store {cks.store_id} is {cks.state}. {action}")


def _refuse_foreign(p: dict, names: tuple, store_type: str) -> None:
    given = [n for n in names if n in p]
    if given:
        raise E.ValidationException(
            f"{given[0]} is not valid for a custom key store of type {store_type}.")


def _require(p: dict, names: tuple, what: str) -> None:
    for n in names:
        if n not in p:
            raise E.ValidationException(f"{n} is required for {what}.")


def _check_unique(ctx, cks: CustomKeyStore, *, name: str, cluster_id, endpoint, path,
                  connectivity, vpc_name) -> None:
    """The in-use exceptions, checking ``cks`` (new or updated values) against every other
    store in this account and Region."""
    others = [o for o in ctx.store.custom_key_stores.values() if o is not cks]
    if any(o.name == name for o in others):
        raise E.CustomKeyStoreNameInUseException(
            f"Custom key store name '{name}' is already in use in this account and Region.")
    if cluster_id is not None and any(o.cluster_id == cluster_id for o in others):
        raise E.CloudHsmClusterInUseException(
            f"CloudHSM cluster {cluster_id} is already associated with a custom key store.")
    if endpoint is None:
        return
    if any(o.uri_endpoint == endpoint and o.uri_path == path for o in others):
        raise E.XksProxyUriInUseException(
            f"The external key store proxy URI {endpoint}{path} is already associated with "
            f"another external key store in this Region.")
    for o in others:
        if o.uri_endpoint == endpoint and (connectivity == VPC or o.connectivity == VPC):
            raise E.XksProxyUriEndpointInUseException(
                f"XksProxyUriEndpoint {endpoint} is already associated with an external key "
                f"store with {o.connectivity} connectivity in this Region.")
    if vpc_name is not None and any(o.vpc_service_name == vpc_name for o in others):
        raise E.XksProxyVpcEndpointServiceInUseException(
            f"The Amazon VPC endpoint service {vpc_name} is already associated with another "
            f"external key store in this Region.")


def _xks_connectivity(connectivity: str, vpc_name, owner) -> None:
    if connectivity == VPC and vpc_name is None:
        raise E.ValidationException(
            "XksProxyVpcEndpointServiceName is required when XksProxyConnectivity is "
            "VPC_ENDPOINT_SERVICE.")
    if connectivity == PUBLIC and (vpc_name is not None or owner is not None):
        raise E.ValidationException(
            "XksProxyVpcEndpointServiceName and XksProxyVpcEndpointServiceOwner are valid only "
            "when XksProxyConnectivity is VPC_ENDPOINT_SERVICE.")


# --- operations ----------------------------------------------------------------------------

def create_custom_key_store(ctx, p):
    store_type = p.get("CustomKeyStoreType", CLOUDHSM)
    cks = CustomKeyStore("cks-" + os.urandom(9).hex()[:17], p["CustomKeyStoreName"], store_type,
                         ctx.now)
    if store_type == CLOUDHSM:
        _refuse_foreign(p, _XKS_PARAMS, store_type)
        _require(p, _CLOUDHSM_PARAMS, "a CloudHSM key store")
        cks.cluster_id = p["CloudHsmClusterId"]
        cks.trust_anchor = p["TrustAnchorCertificate"]
        cks.password = p["KeyStorePassword"]
    else:
        _refuse_foreign(p, _CLOUDHSM_PARAMS, store_type)
        _require(p, ("XksProxyConnectivity", "XksProxyUriEndpoint", "XksProxyUriPath",
                     "XksProxyAuthenticationCredential"), "an external key store")
        connectivity = cks.connectivity = p["XksProxyConnectivity"]
        cks.vpc_service_name = p.get("XksProxyVpcEndpointServiceName")
        cks.vpc_service_owner = p.get("XksProxyVpcEndpointServiceOwner")
        _xks_connectivity(connectivity, cks.vpc_service_name, cks.vpc_service_owner)
        cks.uri_endpoint = p["XksProxyUriEndpoint"]
        cks.uri_path = p["XksProxyUriPath"]
        cred = p["XksProxyAuthenticationCredential"]
        cks.access_key_id, cks.secret = cred["AccessKeyId"], cred["RawSecretAccessKey"]
    _check_unique(ctx, cks, name=cks.name, cluster_id=cks.cluster_id,
                  endpoint=cks.uri_endpoint, path=cks.uri_path,
                  connectivity=cks.connectivity, vpc_name=cks.vpc_service_name)
    stores = ctx.store.custom_key_stores
    if len(stores) >= STORE_QUOTA:
        raise E.LimitExceededException(
            f"Custom key store quota for this account in this region is {STORE_QUOTA} but the "
            f"current count is {len(stores)}.")
    ctx.store.add_custom_key_store(cks)
    return {"CustomKeyStoreId": cks.store_id}


def describe_custom_key_stores(ctx, p):
    limit = check_limit(p.get("Limit"), 1000, 1000)
    stores = list(ctx.store.custom_key_stores.values())
    if "CustomKeyStoreId" in p and "CustomKeyStoreName" in p:
        raise E.ValidationException(
            "Specify either CustomKeyStoreId or CustomKeyStoreName, not both.")
    if "CustomKeyStoreId" in p:
        stores = [_find(ctx, p["CustomKeyStoreId"])]
    elif "CustomKeyStoreName" in p:
        name = p["CustomKeyStoreName"]
        stores = [s for s in stores if s.name == name]
        if not stores:
            raise E.CustomKeyStoreNotFoundException(
                f"Custom key store with name '{name}' does not exist in this account and "
                f"Region.")
    where = scope(ctx, p.get("CustomKeyStoreId", ""), p.get("CustomKeyStoreName", ""))
    chunk, nxt = page([s.entry() for s in stores], p.get("Marker"), limit, where)
    return response("CustomKeyStores", chunk, nxt)


def update_custom_key_store(ctx, p):
    cks = _find(ctx, p["CustomKeyStoreId"])
    changes = [n for n in p if n != "CustomKeyStoreId"]
    if cks.store_type == CLOUDHSM:
        _refuse_foreign(p, _XKS_PARAMS, CLOUDHSM)
        online_ok = {"NewCustomKeyStoreName"}
    else:
        _refuse_foreign(p, ("CloudHsmClusterId", "KeyStorePassword"), XKS)
        online_ok = {"NewCustomKeyStoreName", "XksProxyAuthenticationCredential",
                     "XksProxyUriPath"}
    if cks.state != DISCONNECTED and any(n not in online_ok for n in changes):
        raise _invalid_state(cks, "Disconnect it before updating "
                             + ", ".join(sorted(n for n in changes if n not in online_ok)) + ".")
    name = p.get("NewCustomKeyStoreName", cks.name)
    cluster_id = p.get("CloudHsmClusterId", cks.cluster_id)
    endpoint = p.get("XksProxyUriEndpoint", cks.uri_endpoint)
    path = p.get("XksProxyUriPath", cks.uri_path)
    connectivity = p.get("XksProxyConnectivity", cks.connectivity)
    vpc_name = p.get("XksProxyVpcEndpointServiceName")
    owner = p.get("XksProxyVpcEndpointServiceOwner")
    if cks.store_type == XKS:
        if connectivity == VPC:  # keep the service unless a new one is given
            vpc_name = vpc_name if vpc_name is not None else cks.vpc_service_name
            owner = owner if owner is not None else cks.vpc_service_owner
        _xks_connectivity(connectivity, vpc_name, owner)
    _check_unique(ctx, cks, name=name, cluster_id=cluster_id if "CloudHsmClusterId" in p
                  else None, endpoint=endpoint, path=path, connectivity=connectivity,
                  vpc_name=vpc_name)
    cks.name = name
    cks.cluster_id = cluster_id
    cks.password = p.get("KeyStorePassword", cks.password)
    if cks.store_type == XKS:
        cks.uri_endpoint, cks.uri_path, cks.connectivity = endpoint, path, connectivity
        cks.vpc_service_name, cks.vpc_service_owner = vpc_name, owner
        if "XksProxyAuthenticationCredential" in p:
            cred = p["XksProxyAuthenticationCredential"]
            cks.access_key_id, cks.secret = cred["AccessKeyId"], cred["RawSecretAccessKey"]


def connect_custom_key_store(ctx, p):
    cks = _find(ctx, p["CustomKeyStoreId"])
    if cks.state == CONNECTED:
        return
    cks.state = CONNECTED
    _lifecycle.key_store_connected(ctx.store, cks)


def disconnect_custom_key_store(ctx, p):
    cks = _find(ctx, p["CustomKeyStoreId"])
    if cks.state == DISCONNECTED:
        raise _invalid_state(cks, "It is already disconnected.")
    cks.state = DISCONNECTED
    _lifecycle.key_store_disconnected(ctx.store, cks)


def delete_custom_key_store(ctx, p):
    cks = _find(ctx, p["CustomKeyStoreId"])
    if cks.state != DISCONNECTED:
        raise _invalid_state(cks, "Disconnect it before deleting it.")
    if ctx.store.keys_in_custom_key_store(cks.store_id):
        raise E.CustomKeyStoreHasCMKsException(
            f"Custom key store {cks.store_id} contains KMS keys. Schedule their deletion and "
            f"wait until they are deleted before deleting the custom key store.")
    ctx.store.remove_custom_key_store(cks.store_id)


# --- what other areas call ------------------------------------------------------------------

def require_connected(ctx, custom_key_store_id: str) -> CustomKeyStore:
    """GenerateRandom in a custom key store: the store must be a CONNECTED CloudHSM store."""
    cks = _find(ctx, custom_key_store_id)
    if cks.store_type != CLOUDHSM:
        raise E.UnsupportedOperationException(
            f"{cks.store_id} is an external key store. GenerateRandom supports only CloudHSM "
            f"key stores.")
    if cks.state != CONNECTED:
        raise _invalid_state(cks, "It must be CONNECTED for this operation.")
    return cks


class _NewKeyPlacement:
    """Where CreateKey puts a key of a custom key store (``attach`` runs after all checks)."""

    __slots__ = ("cks", "xks_key_id")

    def __init__(self, cks: CustomKeyStore, xks_key_id: str | None):
        self.cks = cks
        self.xks_key_id = xks_key_id

    def attach(self, ctx, key, params) -> None:
        key.custom_key_store_id = self.cks.store_id
        if self.cks.store_type == CLOUDHSM:
            key.cloudhsm_cluster_id = self.cks.cluster_id
        else:
            key.xks_key_id = self.xks_key_id
        key.materials.append(Material(os.urandom(32), ctx.now))


def store_for_new_key(ctx, params: dict, origin: str, spec: str, usage: str) -> _NewKeyPlacement:
    """Check a CreateKey request for a custom key store key (Origin AWS_CLOUDHSM or
    EXTERNAL_KEY_STORE, or a CustomKeyStoreId); every check happens before anything changes."""
    store_id = params.get("CustomKeyStoreId")
    if origin not in (CLOUDHSM, XKS):
        raise E.ValidationException(
            f"CustomKeyStoreId is valid only when Origin is AWS_CLOUDHSM or EXTERNAL_KEY_STORE, "
            f"not {origin}.")
    if store_id is None:
        raise E.ValidationException(f"CustomKeyStoreId is required when Origin is {origin}.")
    if origin == CLOUDHSM and "XksKeyId" in params:
        raise E.ValidationException(
            "XksKeyId is valid only for keys in an external key store (Origin "
            "EXTERNAL_KEY_STORE).")
    if origin == XKS and "XksKeyId" not in params:
        raise E.ValidationException("XksKeyId is required when Origin is EXTERNAL_KEY_STORE.")
    cks = _find(ctx, store_id)
    if cks.store_type != origin:
        raise E.ValidationException(
            f"Origin {origin} does not match the type of custom key store {cks.store_id} "
            f"({cks.store_type}).")
    if not specs.is_symmetric(spec) or usage != specs.ENCRYPT_DECRYPT:
        raise E.UnsupportedOperationException(
            f"KeySpec {spec} with KeyUsage {usage} is not supported in a custom key store. "
            f"Only SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT are.")
    if cks.state != CONNECTED:
        raise _invalid_state(cks, "It must be CONNECTED to create KMS keys in it.")
    xks_key_id = params.get("XksKeyId")
    in_store = ctx.store.keys_in_custom_key_store(cks.store_id)
    if xks_key_id is not None and any(k.xks_key_id == xks_key_id for k in in_store):
        raise E.XksKeyAlreadyInUseException(
            f"External key {xks_key_id} is already associated with a KMS key in custom key "
            f"store {cks.store_id}.")
    return _NewKeyPlacement(cks, xks_key_id)
