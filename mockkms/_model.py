"""The botocore KMS service model, loaded once per process.

Everything that depends on the wire contract (operation names, input and output shapes, enums,
length limits, modeled errors) is read from here, never written down by hand.
"""
from __future__ import annotations

import functools
import sys
import threading
from typing import NamedTuple

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


class Limits(NamedTuple):
    """A request member's limits in the model (none given: no limit)."""
    min: int
    max: int
    pattern: str  # a regular expression its value must match (search); "" matches anything


@functools.cache
def limits(operation_name: str, *path: str) -> Limits:
    """The limits of the request member at ``path`` in ``operation_name``'s input, through
    lists (``limits("CreateKey", "Tags", "TagKey")``): length and regular expression."""
    shape = operation(operation_name).input_shape
    for name in path:
        shape = shape.members[name]
        while shape.type_name == "list":
            shape = shape.member
    meta = shape.metadata
    return Limits(meta.get("min", 0), meta.get("max", sys.maxsize), meta.get("pattern", ""))
