"""mockkms: an in-memory, high-fidelity mock of AWS KMS for Python tests.

Public names: :func:`mock_kms`, :class:`MockKms`, :func:`load_seed`, :class:`SeedError`,
``DEFAULT_ACCOUNT`` and ``DEFAULT_REGION`` (``__all__``), and the subpackage ``mockkms.server``
(``make_app``, ``make_server``, ``application``). Everything else is private.
Importing mockkms is light: it adds one handler to botocore's built-in handlers and nothing
else; the service model, cryptography and operation handlers load on the first request.
"""
from __future__ import annotations

from ._mock import DEFAULT_ACCOUNT, DEFAULT_REGION, MockKms, load_seed, mock_kms
from ._transport import install_botocore_hook as _install

__all__ = ["mock_kms", "MockKms", "load_seed", "SeedError", "DEFAULT_ACCOUNT", "DEFAULT_REGION"]
__version__ = "0.1.0"

_install()


def __getattr__(name: str) -> type:
    if name == "SeedError":
        from . import _seed
        return _seed.SeedError
    raise AttributeError(f"module 'mockkms' has no attribute {name!r}")
