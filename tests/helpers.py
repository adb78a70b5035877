"""Helpers shared by mockkms's own test modules (import them as ``from helpers import ...``;
fixtures stay in conftest.py)."""
from __future__ import annotations

import os
import subprocess
import sys


def error_of(excinfo) -> tuple[str, str]:
    """(code, message) of a botocore ClientError caught by pytest.raises."""
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


# --- policies (authorization tests) -------------------------------------------------------------

def statement(effect: str = "Allow", *, principal=None, action="kms:*", resource="*",
              condition: dict | None = None, sid: str | None = None, **extra) -> dict:
    """One policy statement; ``principal`` None leaves it out (identity policies), a string is
    ``{"AWS": principal}`` unless it is ``"*"``."""
    out: dict = {"Effect": effect}
    if sid is not None:
        out["Sid"] = sid
    if principal is not None:
        out["Principal"] = principal if principal == "*" or isinstance(principal, dict) else \
            {"AWS": principal}
    if action is not None:
        out["Action"] = action
    if resource is not None:
        out["Resource"] = resource
    if condition is not None:
        out["Condition"] = condition
    out.update(extra)
    return out


def document(*statements: dict) -> str:
    """A policy document (Version 2012-10-17) of ``statements``, as JSON text."""
    import json
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def denied(caller: str, action: str, resource: str, why: str) -> tuple[str, str]:
    """(code, message) of AWS's AccessDeniedException; ``why`` is ``resource``/``identity``
    (no policy allows) or ``deny-resource``/``deny-identity`` (an explicit deny)."""
    where = f" on resource: {resource}" if resource else ""
    text = {"resource": f"because no resource-based policy allows the {action} action",
            "identity": f"because no identity-based policy allows the {action} action",
            "deny-resource": "with an explicit deny in a resource-based policy",
            "deny-identity": "with an explicit deny in an identity-based policy"}[why]
    return ("AccessDeniedException",
            f"User: {caller} is not authorized to perform: {action}{where} {text}")


def allowed(call, **kwargs) -> bool:
    """Whether ``call(**kwargs)`` is authorized: True if it succeeds, False on
    AccessDeniedException (any other error is raised)."""
    from botocore.exceptions import ClientError
    try:
        call(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "AccessDeniedException":
            raise
        return False
    return True


# --- the environment and the network -------------------------------------------------------------

# The AWS variables a user's environment may hold (the isolation tests set and check them).
AWS_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE", "AWS_SECURITY_TOKEN", "AWS_EC2_METADATA_DISABLED",
            "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_KMS", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]


class NetworkAttempt(ConnectionRefusedError):
    """Raised by the ``socket_guard`` fixture instead of touching the network."""


def hosts(attempts) -> set[str]:
    """The hosts that the attempts recorded by the ``socket_guard`` fixture tried to reach."""
    out = set()
    for _, args in attempts:
        for a in args:
            if isinstance(a, tuple) and a:
                out.add(str(a[0]))
            elif isinstance(a, str):
                out.add(a)
    return out


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python process from the repository root (nothing imported yet)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
