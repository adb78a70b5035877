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
import sys
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
# real credentials. They are lent fixed credentials that never refresh: the values the
# refreshing ones hold already (read without a refresh, so the caller stays who it was: a
# refreshing session of a registered principal is still that principal), else — none fetched
# yet, a deferred role profile say — the mock's fake ones (the mock's account, as a client made
# inside the mock). Each gets its own back, untouched, when the last mock stops.
_lent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

# botocore's SigV4 signer, its map of signers and its fixed credentials class, and the stand-in
# (set by define_unsigned() when a mock first starts)
_SigV4Auth: Any = None
_AUTH_TYPE_MAPS: dict = {}
Unsigned: Any = None
Credentials: Any = None  # fixed credentials: nothing to lend (``lend_credentials``)


def lend_credentials(signer, aio: bool) -> None:
    """Lend ``signer`` fixed credentials if it has none or refreshing ones (see above); any
    other credentials are used as they are."""
    from botocore.credentials import RefreshableCredentials
    own = signer._credentials
    if own is not None and not isinstance(own, RefreshableCredentials):  # aiobotocore's too
        return
    held = (own._access_key, own._secret_key, own._token) if own is not None else (None, None)
    values = held if held[0] and held[1] else FAKE_CREDENTIALS
    if aio:  # aiobotocore's signer awaits ``get_frozen_credentials()``
        from aiobotocore.credentials import AioCredentials as Fixed
    else:
        from botocore.credentials import Credentials as Fixed
    _lent.setdefault(signer, own)
    signer._credentials = Fixed(*values)


def return_lent_credentials() -> None:
    for signer, own in list(_lent.items()):
        signer._credentials = own
    _lent.clear()


def profile_credentials(session, service_name: str, kwargs: dict) -> None:
    """For ``Session.create_client`` while a mock is active: a KMS client of a session made
    before the mock with a profile of its own (``boto3.Session(profile_name=...)``), whose
    credentials are not resolved yet, would resolve them from that profile — a
    ``credential_process`` run, a role assumed with real keys — so it gets the fake credentials
    instead (``kwargs`` gains them). Explicit keys, resolved credentials and sessions without a
    profile (their environment is the mock's) are left alone."""
    if (service_name == "kms" and kwargs.get("aws_access_key_id") is None
            and kwargs.get("aws_secret_access_key") is None
            and getattr(session, "_credentials", None) is None
            and session.instance_variables().get("profile") is not None):
        kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = FAKE_CREDENTIALS


# boto3's default session when the outermost mock started, and whether its credentials were
# resolved then. A default session made inside a mock (``boto3.client(...)``, the
# ``kms_client`` fixture) holds the mock's fake credentials, region and (empty) config: after
# the mock it is put aside — boto3 then has the session it had before, or none, and makes the
# next one from the real environment — and handed back to boto3 when the next outermost mock
# starts, so that clients made from it (``kms_client`` keeps them) serve every mock alike. A
# default session that existed before and first resolved its credentials inside the mock
# forgets them at the end.
_default_session: list = []
_made_inside: list = [None]  # the default session the last mock made, for the next one


def save_default_session() -> None:
    boto3: Any = sys.modules.get("boto3")
    session = getattr(boto3, "DEFAULT_SESSION", None)
    resolved = session is not None and session._session._credentials is not None
    _default_session[:] = [session, resolved]
    if boto3 is not None and session is None and _made_inside[0] is not None:
        boto3.DEFAULT_SESSION = _made_inside[0]


def restore_default_session() -> None:
    """Put boto3's default session back as the outermost mock found it (see above)."""
    boto3: Any = sys.modules.get("boto3")
    if not _default_session:
        return
    session, resolved = _default_session
    _default_session.clear()
    if boto3 is None:
        return
    current = boto3.DEFAULT_SESSION
    if current is not session:
        if session is None:
            _made_inside[0] = current
        boto3.DEFAULT_SESSION = session
    elif session is not None and not resolved:
        session._session._credentials = None


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
