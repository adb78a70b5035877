"""The ``Principals`` and ``Authorization`` of a seed file (the rest of the format is
``_seed``'s)::

    "Principals": [                                   optional: IAM users, roles and roots
      {
        "Arn": "arn:aws:iam::111122223333:role/app",  user, role or root ARN ("role/app",
                                                      "user/alice": of the mock's account)
        "Policies": [{"Version": "2012-10-17", "Statement": [...]}],   optional identity
                                                      policies (objects or JSON texts)
        "Tags": {"tenant": "a"},                      optional principal tags
        "AccessKeyId": "AKIAAPPROLEEXAMPLE1",         optional fixed credentials (a role:
        "SecretAccessKey": "app-secret"               its "mockkms" session's)
      }
    ],
    "Authorization": false                            optional; false: evaluate no permissions

Principals are registered as ``MockKms.principal`` registers them (``_authz.principals``); with
fixed credentials a script or another SDK can sign as one (``mockkms serve --seed``).
``"Authorization": false`` turns evaluation off for the mock or server that loads the seed
(``mock_kms(seed=...)``, the marker's ``seed=``, ``mockkms.load_seed`` into the active mock,
``mockkms serve --seed``); ``true`` or absent leaves that mock's own setting.

Problems raise ``Problem`` (a ``ValueError`` whose message names the file and the entry);
``_seed`` turns it into ``SeedError``. Checking comes first (``checked``, ``check_conflicts``);
applying (``apply``) changes the backend only once everything has passed.
"""
from __future__ import annotations

from collections.abc import Mapping

from ._authz import principals as _principals

FIELDS = ("Arn", "Policies", "Tags", "AccessKeyId", "SecretAccessKey")


class Problem(ValueError):
    """A seed's principal or setting that cannot be loaded."""


def settings(source: str, document: object) -> dict:
    """``{"Authorization": bool}`` when the seed has that setting, else ``{}``."""
    if not isinstance(document, Mapping):
        raise Problem(f"{source}: a seed must be an object with Version and Keys")
    if "Authorization" not in document:
        return {}
    value = document["Authorization"]
    if not isinstance(value, bool):
        raise Problem(f"{source}: Authorization must be true or false, got {value!r}")
    return {"Authorization": value}


def checked(source: str, document: object, account_id: str, region: str) -> list:
    """The seed's checked principals: (where, ``_authz.principals.Registration``) pairs
    (``role/<name>``/``user/<name>`` ARNs are of ``account_id``), after its settings."""
    settings(source, document)
    assert isinstance(document, Mapping)  # settings() refuses anything else
    raw = document.get("Principals", [])
    if not isinstance(raw, list):
        raise Problem(f"{source}: Principals must be a list")
    out: list = []
    seen: dict = {}
    for i, entry in enumerate(raw):
        where = f"Principals[{i}]"
        if not isinstance(entry, Mapping):
            raise Problem(f"{source}: {where}: each principal must be an object")
        unknown = sorted(set(map(str, entry)) - set(FIELDS))
        if unknown or "Arn" not in entry:
            extra = f"; unknown: {', '.join(unknown)}" if unknown else ""
            raise Problem(f"{source}: {where}: fields are {', '.join(FIELDS)} (Arn required)"
                          f"{extra}")
        arn = _principals.shorthand(entry["Arn"], account_id, region)
        try:
            registration = _principals.prepare(
                arn, entry.get("Policies"), entry.get("Tags"), entry.get("AccessKeyId"),
                entry.get("SecretAccessKey"))
        except ValueError as exc:
            raise Problem(f"{source}: {where}: {exc}") from None
        for name, value in (("Arn", registration.arn), ("AccessKeyId", entry.get("AccessKeyId"))):
            if value is not None and (name, value) in seen:
                raise Problem(f"{source}: {where}: {name} {value} is also used by "
                              f"{seen[name, value]}")
            seen[name, value] = where
        out.append((where, registration))
    return out


def check_conflicts(source: str, principals: list, backend) -> None:
    """A fixed access key id that belongs to another principal already registered."""
    for where, registration in principals:
        problem = registration.conflict(backend)
        if problem is not None:
            raise Problem(f"{source}: {where}: {problem}")


def apply(principals: list, backend, now: float) -> None:
    """Register the checked principals (under the backend lock, after ``check_conflicts``)."""
    for _, registration in principals:
        _principals.apply(backend, registration, now)
