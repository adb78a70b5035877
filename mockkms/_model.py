"""The botocore KMS service model, loaded once per process.

Everything that depends on the wire contract (operation names, input and output shapes, enums,
length limits, modeled errors) is read from here, never written down by hand.
"""
from __future__ import annotations

import functools
import threading

_lock = threading.Lock()
_model = None


def service_model():
    """The installed botocore's KMS ServiceModel (loaded lazily, cached for the process)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                import botocore.session

                _model = botocore.session.get_session().get_service_model("kms")
    return _model


@functools.cache
def operation(name: str):
    """OperationModel for ``name``; raises KeyError for an operation the model does not have."""
    model = service_model()
    if name not in model.operation_names:
        raise KeyError(name)
    return model.operation_model(name)


def operation_names() -> list[str]:
    return list(service_model().operation_names)


@functools.cache
def modeled_errors(name: str) -> frozenset[str]:
    """Error codes the model lists for operation ``name``."""
    return frozenset(e.name for e in operation(name).error_shapes)


@functools.cache
def enum(shape_name: str) -> tuple[str, ...]:
    """The enum values of a named model shape (empty when the shape is absent)."""
    try:
        return tuple(service_model().shape_for(shape_name).enum)
    except Exception:  # shape missing in an older botocore
        return ()
