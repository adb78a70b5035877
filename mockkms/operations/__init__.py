"""KMS operation handlers, one function per operation, grouped by area.

Each handler is ``handler(ctx, params) -> response dict | None``, registered with
``@_dispatch.handler("OperationName")``. Importing this package imports every area module; the
dispatcher does that on the first request.
"""
from . import (  # noqa: F401
    aliases, crypto, custom_key_stores, data_key_pairs, grants, imports, kem, keys, mac,
    multi_region, policies, rotation, signing, tags,
)
