"""What a KMS request carries instead of a SigV4 signature while a mock is active, and whose
credentials it carries.

* ``Unsigned`` stands in for botocore's v4 signer (the pure-Python ``SigV4Auth``, or the
  ``awscrt`` one botocore maps ``v4`` to when ``awscrt`` is installed): it computes no signature
  and puts the access key id and signing region that botocore resolved in the
  ``X-Mockkms-Credential`` header (:data:`CREDENTIAL_HEADER`), where ``_transport.credential``
  reads them as it reads a signature's credential scope. Any other signer a client asked for is
  kept.
* Signers with no credentials, or with credentials that refresh themselves, are lent the mock's
  fake credentials (:data:`FAKE_CREDENTIALS`) while a mock is active and get their own back when
  the last one stops (see :func:`lend_credentials`).

``_transport``'s wrapped ``get_auth_instance`` uses both, for KMS requests only, while a mock is
active; nothing here is imported from botocore before a mock first starts.
"""
from __future__ import annotations

import re
import weakref
from typing import Any

from . import _regions

CREDENTIAL_HEADER = "X-Mockkms-Credential"  # "<access key id>/<region>" of an unsigned request
FAKE_CREDENTIALS = ("MOCKKMSFAKEACCESSKEY", "mockkms/fake/secret/access/key/not/real")
_SCOPE_PART = re.compile(r"[^/,\s]+")  # what a credential scope carries as key id or region

# Signers whose credentials cannot be used as they are while a mock is active, and what they
# held: none at all (a client created before activation on a machine with no AWS configuration),
# or credentials that refresh themselves — a profile that assumes a role, SSO, a
# ``credential_process``, a container or instance-metadata provider — whose
# ``get_frozen_credentials()`` could call STS, a process or a metadata endpoint with the user's
# real credentials. Both are lent the mock's fake credentials (so they call as the mock's
# account, as a client made inside the mock does) and get their own back, untouched, when the
# last mock stops.
_lent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

# botocore's SigV4 signer, its map of signers and its fixed credentials class, and the stand-in
# (set by define_unsigned() when a mock first starts)
_SigV4Auth: Any = None
_AUTH_TYPE_MAPS: dict = {}
Unsigned: Any = None
Credentials: Any = None  # fixed credentials: nothing to lend (``lend_credentials``)


def lend_credentials(signer, aio: bool) -> None:
    """Lend ``signer`` the fake credentials if it has none or refreshing ones (see above); any
    other credentials are used as they are."""
    from botocore.credentials import RefreshableCredentials
    own = signer._credentials
    if own is not None and not isinstance(own, RefreshableCredentials):  # aiobotocore's too
        return
    if aio:  # aiobotocore's signer awaits ``get_frozen_credentials()``
        from aiobotocore.credentials import AioCredentials as Fixed
    else:
        from botocore.credentials import Credentials as Fixed
    _lent.setdefault(signer, own)
    signer._credentials = Fixed(*FAKE_CREDENTIALS)


def return_lent_credentials() -> None:
    for signer, own in list(_lent.items()):
        signer._credentials = own
    _lent.clear()


def define_unsigned() -> None:
    global _SigV4Auth, _AUTH_TYPE_MAPS, Unsigned, Credentials
    if Unsigned is not None:
        return
    from botocore.auth import AUTH_TYPE_MAPS, SigV4Auth
    from botocore.credentials import Credentials as Fixed
    from botocore.exceptions import NoCredentialsError

    class _Unsigned(SigV4Auth):
        """Stands in for botocore's SigV4 signer of a KMS request while a mock is active. It
        computes no signature: the access key id and signing region that botocore resolved go
        in ``X-Mockkms-Credential``; a session token goes in ``X-Amz-Security-Token``, as
        SigV4Auth puts it. (No date header: nothing reads it.)"""

        def add_auth(self, request):
            credentials = self.credentials
            if credentials is None:
                raise NoCredentialsError()
            region = self._region_name
            _regions.require(region, request.url)  # refused before it is sent: no retries
            headers = request.headers
            token = credentials.token
            if token:
                del headers["X-Amz-Security-Token"]  # every occurrence, if any
                headers["X-Amz-Security-Token"] = token
            del headers[CREDENTIAL_HEADER]
            access_key_id = credentials.access_key
            # only what a credential scope can carry (otherwise the request reads as unsigned,
            # as its Authorization header would have)
            if _SCOPE_PART.fullmatch(access_key_id or "") and _SCOPE_PART.fullmatch(region):
                headers[CREDENTIAL_HEADER] = f"{access_key_id}/{region}"

    _SigV4Auth, _AUTH_TYPE_MAPS, Unsigned, Credentials = SigV4Auth, AUTH_TYPE_MAPS, _Unsigned, Fixed


def stand_in(auth):
    """The auth of a KMS request while a mock is active: botocore's own v4 signer — the
    pure-Python one, or the ``awscrt`` one (``AUTH_TYPE_MAPS["v4"]``; both hold
    ``credentials``, ``_service_name`` and ``_region_name``) — is replaced by ``Unsigned`` with
    the credentials and region botocore resolved for it; any other signature version the client
    asked for is kept."""
    kind = type(auth)
    if kind is not _SigV4Auth and kind is not _AUTH_TYPE_MAPS.get("v4"):
        return auth
    return Unsigned(auth.credentials, auth._service_name, auth._region_name)
