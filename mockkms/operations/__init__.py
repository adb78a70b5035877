"""KMS operation handlers, one function per operation, grouped by area.

Each handler is ``handler(ctx, params) -> response dict | None``, registered with
``@_dispatch.handler("OperationName")``. Importing this package imports every area module.
"""
import importlib as _importlib

AREAS = ("keys", "crypto", "tags", "policies", "aliases", "grants", "rotation", "imports",
         "multi_region", "custom_key_stores", "signing", "data_key_pairs", "mac", "kem")

for _area in AREAS:
    try:
        _importlib.import_module(f"{__name__}.{_area}")
    except ModuleNotFoundError as _exc:  # an area not written yet answers "not implemented"
        if _exc.name != f"{__name__}.{_area}":
            raise
