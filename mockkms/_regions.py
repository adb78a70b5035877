"""Which AWS Regions exist, and the error for a request to one that does not.

A Region exists when botocore's own partition data lists it: the union of the ``regions`` of
every partition in ``partitions.json`` and in ``endpoints.json`` (both ship with botocore; the
union keeps a Region that only one of them lists yet). Names that are not of a Region's shape
(the ``aws-global`` pseudo-regions of global services) are left out: KMS has no endpoint there.

The same data gives each Region its partition (``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso``,
``aws-iso-b``, ``aws-iso-e``, ``aws-iso-f``, ``aws-eusc``, ...), the second field of every ARN
the mock makes there (:func:`partition`).

Nothing is read at ``import mockkms``: ``partitions.json`` (a few KB) is read on the first
check, ``endpoints.json`` (over a MB) only when a name is missing from the first; the result is
cached for the process.

A request to a Region that does not exist is answered as botocore answers it against AWS, where
no such endpoint resolves: ``botocore.exceptions.EndpointConnectionError`` (here its subclass
:class:`UnknownRegionError`, whose message names the endpoint URL and says why), and no state
is created for it.
"""
from __future__ import annotations

import threading

from botocore.exceptions import EndpointConnectionError  # loaded by botocore.handlers anyway

from ._names import is_region

_known: dict = {}          # Region -> (that name, its partition's id), from the files read so far
_read: tuple = ()          # the data files read so far
_lock = threading.Lock()
_FILES = ("partitions", "endpoints")


class UnknownRegionError(EndpointConnectionError):
    """A KMS request to a Region that botocore's partition data does not list."""

    fmt = ('Could not connect to the endpoint URL: "{endpoint_url}" (mockkms: there is no AWS '
           'Region {region!r} in botocore\'s partition data, so no KMS endpoint either)')


def _regions_in(name: str) -> dict:
    """{Region: partition id} of one data file (``partitions.json`` names a partition ``id``,
    ``endpoints.json`` ``partition``)."""
    from botocore.loaders import create_loader

    data = create_loader().load_data(name)
    return {region: (region, part.get("id") or part["partition"])
            for part in data.get("partitions", ())
            for region in part.get("regions", ()) if is_region(region)}


def exists(region) -> bool:
    """Whether ``region`` is an AWS Region botocore knows."""
    global _known, _read
    if region in _known:
        return True
    with _lock:
        for name in _FILES[len(_read):]:
            if region in _known:
                break
            _known = {**_regions_in(name), **_known}
            _read = _read + (name,)
        return region in _known


def dns_suffixes() -> frozenset:
    """Every DNS suffix of every partition in ``partitions.json``, dual-stack ones included
    (``amazonaws.com``, ``api.aws``, ``amazonaws.com.cn``, ``c2s.ic.gov``, ...)."""
    from botocore.loaders import create_loader

    return frozenset(suffix for part in create_loader().load_data("partitions")["partitions"]
                     for name in ("dnsSuffix", "dualStackDnsSuffix")
                     if (suffix := part.get("outputs", {}).get(name)))


def canonical(region: str) -> str:
    """The one string object this module holds for ``region`` if it is a known Region, else
    ``region`` itself: what keeps the call log to one string per Region (never ``sys.intern``:
    a server must not keep made-up names)."""
    known = _known.get(region)
    return region if known is None else known[0]


def partition(region: str) -> str:
    """The partition of ``region`` (``aws`` for a name botocore does not list: the mock refuses
    those before it makes anything there)."""
    known = _known.get(region)
    if known is None and exists(region):
        known = _known[region]
    return "aws" if known is None else known[1]


def require(region, url: str | None) -> None:
    """Raise :class:`UnknownRegionError` unless ``region`` exists (``url``: the endpoint the
    request went to, for the message)."""
    if region not in _known and not exists(region):
        raise UnknownRegionError(endpoint_url=url, region=region)
