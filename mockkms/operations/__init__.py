"""KMS operation handlers, one function per operation, grouped by area.

Each handler is ``handler(ctx, params) -> response dict | None``, registered with
``@_dispatch.handler("OperationName")``. Importing this package imports every area module.
"""
from . import keys, crypto, tags, policies  # noqa: F401
