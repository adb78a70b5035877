"""``IamPrincipal``: what ``MockKms.principal`` returns — a registered user, role or role session
seen from a test: its ARN, the credentials that make a client call as it, and (roles)
``assume``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import principals

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from .._backend import Backend
    from .._records import Principal


class IamPrincipal:
    """A registered IAM principal (``MockKms.principal``, ``role.assume``).

    ``arn``: its ARN (a session's ``arn:aws:sts::<account>:assumed-role/<role>/<name>``);
    ``account``; ``credentials``: ``aws_access_key_id``, ``aws_secret_access_key`` and, for role
    sessions, ``aws_session_token`` — what ``boto3.client("kms", **credentials)`` accepts;
    ``client(region_name=None, **kwargs)``: such a client (default region: the mock's).
    A role's own credentials are those of its session named ``mockkms``."""

    __slots__ = ("_backend", "arn", "account", "kind", "_region")

    def __init__(self, backend: Backend, arn: str, region: str) -> None:
        record = backend.principals[arn]
        self._backend = backend
        self.arn = arn
        self.account = record.account
        self.kind = record.kind
        self._region = region

    def _record(self) -> Principal:
        """Its record; ``RuntimeError`` once the mock's state no longer holds it."""
        record = self._backend.principals.get(self.arn)
        if record is None:
            raise RuntimeError(
                f"{self.arn} is no longer registered: principals live as long as the mock's "
                "state (an outermost mock_kms start, reset() and each test's fresh state remove "
                "them); register it again with principal()")
        return record

    def _signer(self) -> Principal:
        record = self._record()
        if self.kind == principals.ROLE:
            return principals.default_session(self._backend, self.arn)
        return record

    @property
    def credentials(self) -> dict:
        return principals.credentials(self._signer())

    @property
    def session_arn(self) -> str:
        """The ARN requests signed with ``credentials`` come from (a role: its ``mockkms``
        session; otherwise ``arn``)."""
        return self._signer().arn

    def client(self, region_name: str | None = None, **kwargs: Any) -> BaseClient:
        """A boto3 KMS client that signs as this principal."""
        import boto3
        return boto3.client("kms", region_name=region_name or self._region,
                            **self.credentials, **kwargs)

    def assume(self, session_name: str, tags: dict | None = None) -> IamPrincipal:
        """A session of this role (``sts:AssumeRole``): ``aws:PrincipalArn`` is the role's ARN,
        policies are the role's, ``tags`` are session tags (they override the role's)."""
        if self.kind != principals.ROLE:
            raise TypeError(f"{self.arn} is not a role: only roles can be assumed")
        self._record()
        record = principals.assume(self._backend, self.arn, session_name, tags,
                                   self._backend.clock.now())
        return IamPrincipal(self._backend, record.arn, self._region)

    def __repr__(self) -> str:
        return f"<IamPrincipal {self.arn}>"
