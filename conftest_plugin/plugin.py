"""pytest plugin for mockkms, loaded automatically when mockkms is installed (``pytest11``).

* fixtures: ``kms_mock`` (an active mock whose state is empty when the test starts; yields the
  ``MockKms``), ``kms_client`` (a boto3 KMS client in the mock's region), ``kms_key`` (a factory
  that creates keys and returns their KeyMetadata), ``kms_principal`` (a factory that registers
  an IAM user or role with identity policies: ``MockKms.principal``);
* marker: ``@pytest.mark.mock_kms(account_id=..., region=..., seed=...,
  authorization=...)`` runs a test, its
  function-scoped fixtures and (unittest) ``setUp``/``tearDown`` inside a mock with empty state;
  it works on functions, classes (unittest ones included) and modules (``pytestmark``). It is an
  autouse fixture (the first function-scoped one to set up, the last to tear down) that does
  nothing for unmarked tests; a fixture rather than a runtest hook so that a failing start (a
  bad seed) is an ordinary setup error;
* options: ``--mockkms-account`` and ``--mockkms-region`` set the default account and region of
  every mock in the run (fixtures, marker, and ``mock_kms()`` itself), and
  ``--mockkms-no-authorization`` makes them evaluate no permissions (as ``authorization=False``;
  an explicit ``authorization=True`` still evaluates); without
  ``--mockkms-region`` a mock's region is ``AWS_DEFAULT_REGION``, else ``AWS_REGION``, else
  ``us-east-1`` (an explicit ``region=`` always wins).

Fresh state inside an outer mock: a mock that was already active when the test started — a module-,
class- or session-scoped fixture doing ``with mock_kms(): yield``, or one started before the run —
is *outer* to the test. The marker and ``kms_mock`` set its state aside (keys, aliases, grants,
custom key stores, registered principals, scheduled events, call log, clock) before the test and
give it back, exactly, afterwards; the test sees none of it and leaves nothing in it. A mock started
by one of the test's own function-scoped fixtures is not outer: ``kms_mock`` shares it, so the
test's fixtures compose (a marked test's fixtures run inside the marker's mock anyway).

State lives in the process, so each pytest-xdist worker has its own. Importing this plugin imports
mockkms, which adds its handler to botocore's built-in handlers (clients made earlier are caught
by the safety net at botocore's HTTP layer while a mock is active). That import is cheap for
anyone who uses boto3 anyway (it is botocore's own ``botocore.handlers``); the service model,
cryptography and handlers load on the first mocked request, not here.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable

import pytest

import mockkms  # noqa: F401  (installs the botocore hook before test modules create clients)
from mockkms import _mock

from . import _reuse

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from mockkms import MockKms
    from mockkms._authz.handles import IamPrincipal

_PREVIOUS_DEFAULTS = pytest.StashKey[dict]()
_OUTER_DEPTH = pytest.StashKey[int]()  # how many activations were active when the test started
_MARKER_HELP = ("mock_kms(account_id=None, region=None, seed=None, authorization=None): run the "
                "test (with its fixtures and setUp/tearDown) inside a fresh in-memory KMS mock "
                "(mockkms).")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockkms", "mockkms (in-memory AWS KMS)")
    group.addoption("--mockkms-region", default=None, metavar="REGION",
                    help="default region of mockkms mocks (default: $AWS_DEFAULT_REGION, "
                         "else $AWS_REGION, else us-east-1).")
    group.addoption("--mockkms-account", default=None, metavar="ACCOUNT_ID",
                    help="default 12-digit account id of mockkms mocks (default: 123456789012).")
    group.addoption("--mockkms-no-authorization", action="store_true", default=False,
                    help="mockkms mocks evaluate no key policies, grants or identity policies "
                         "unless made with authorization=True (default: they do, as AWS).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)
    try:
        previous = _mock._set_defaults(
            account_id=config.getoption("--mockkms-account"),
            region=config.getoption("--mockkms-region"),
            authorization=False if config.getoption("--mockkms-no-authorization") else None)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_PREVIOUS_DEFAULTS] = previous


def pytest_unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(_PREVIOUS_DEFAULTS, None)
    if previous is not None:
        _mock._restore_defaults(previous)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse the marker on a ``unittest.TestCase`` with its own ``setUpClass`` or
    ``tearDownClass``: those run once per class, before and after every test's mock, so they
    would call KMS unmocked (the real AWS, with real credentials). ``@mock_kms`` on the class
    covers them (and gives each test what ``setUpClass`` left)."""
    import unittest

    refused = set()
    for item in items:
        cls = getattr(item, "cls", None)
        if (cls is not None and issubclass(cls, unittest.TestCase)
                and item.get_closest_marker("mock_kms") is not None
                and any(getattr(getattr(cls, name), "__func__", None)
                        is not getattr(unittest.TestCase, name).__func__
                        for name in ("setUpClass", "tearDownClass"))):
            refused.add(cls.__qualname__)
    if refused:
        raise pytest.UsageError(
            "@pytest.mark.mock_kms on unittest.TestCase class(es) "
            f"{', '.join(sorted(refused))} with setUpClass/tearDownClass: those would run "
            "outside the mock (the marker starts one per test); decorate the class with "
            "@mockkms.mock_kms instead, which covers them")


@pytest.fixture(autouse=True)
def _mock_kms_marker(request: pytest.FixtureRequest) -> Iterator[MockKms | None]:
    """Runs a test marked ``mock_kms`` inside its own mock, with empty state even inside an
    outer mock (whose state comes back after the test); does nothing for other tests."""
    request.node.stash[_OUTER_DEPTH] = len(_mock._stack)
    marker = request.node.get_closest_marker("mock_kms")
    if marker is None:
        yield None
        return
    if marker.args:
        pytest.fail(f"{request.node.nodeid}: the mock_kms marker takes keyword arguments only "
                    "(account_id=..., region=..., seed=..., authorization=...)", pytrace=False)
    try:
        mock = _mock.mock_kms(**marker.kwargs)
    except TypeError as exc:  # an unknown keyword, authorization="no"
        pytest.fail(f"{request.node.nodeid}: the mock_kms marker: {exc}", pytrace=False)
    with _mock.fresh(mock) as mock:
        yield mock


@pytest.fixture
def kms_mock(request: pytest.FixtureRequest,
             _mock_kms_marker: MockKms | None) -> Iterator[MockKms]:
    """An active in-memory KMS whose state is empty when the test starts, even inside an outer
    mock (its state is set aside and given back after the test); yields the MockKms.

    Empty: no keys, aliases, grants, custom key stores, principals, scheduled events or calls,
    and the clock
    at real time. An outer mock is one active before the test started (a module-, class- or
    session-scoped fixture's ``with mock_kms()``, or one started before the run); its state
    comes back exactly, whatever the test did. A mock started earlier by one of this test's own
    function-scoped fixtures is shared instead, and on a test marked ``mock_kms`` this is the
    marker's mock."""
    if _mock_kms_marker is not None:  # the test is marked: share the marker's activation
        yield _mock_kms_marker
        return
    mock = _mock.mock_kms()
    own = len(_mock._stack) > request.node.stash.get(_OUTER_DEPTH, 0)
    with mock if own else _mock.fresh(mock):
        yield mock


@pytest.fixture
def kms_client(kms_mock: MockKms) -> Iterator[BaseClient]:
    """A boto3 KMS client in ``kms_mock``'s region, talking to its (fresh) state.

    What it guarantees: the client is made as ``boto3.client("kms", region_name=...)`` makes
    it, on boto3's default session, with the credentials and ``AWS_*`` settings in the
    environment while the mock is active; its calls reach this test's mock, whose state is
    empty when the test starts (the state is the mock's, never the client's).

    The client object may be one an earlier test of this process got: making a client costs
    more than a hundred mocked calls, so one is kept per (account, region, boto3 default
    session, credentials and every other ``AWS_*`` and proxy variable of the environment) and
    handed out again. Only an unchanged client is: if the test registers or removes an event
    handler on it (a ``botocore.stub.Stubber`` activated, say), sets or replaces an attribute
    (of the client, its ``meta`` or its signer) or changes its config, it is dropped when the
    test ends and the next test gets a new one; so does every test after a handler was
    registered on (or removed from) boto3's default session, or after that session was
    replaced. Changes botocore does not let one see (a change inside an object the client
    holds, such as its endpoint's HTTP session) are not noticed: a test that makes them should
    make its own client with ``boto3.client("kms")``."""
    import boto3

    key, client = _reuse.take(kms_mock.account_id, kms_mock.region)
    if client is None:
        client = boto3.client("kms", region_name=kms_mock.region)
    lease = _reuse.Lease(client)
    yield client
    _reuse.give_back(key, lease)


@pytest.fixture
def kms_key(kms_client: BaseClient) -> Callable[..., dict[str, Any]]:
    """Factory kms_key(KeySpec=..., KeyUsage=..., **create_key_args) -> the new key's
    KeyMetadata; the key is made through ``kms_client``, in ``kms_mock``'s (fresh) state."""
    from mockkms import _keyspecs

    def create(**create_key_args: Any) -> dict[str, Any]:
        spec = create_key_args.get("KeySpec")
        usages = _keyspecs.SPECS.get(spec, ()) if isinstance(spec, str) else ()
        if "KeyUsage" not in create_key_args and len(usages) == 1:
            create_key_args["KeyUsage"] = next(iter(usages))  # the only usage the spec allows
        return kms_client.create_key(**create_key_args)["KeyMetadata"]
    return create


@pytest.fixture
def kms_principal(kms_mock: MockKms) -> Callable[..., IamPrincipal]:
    """Factory kms_principal(arn, policies=None, tags=None) -> the registered IAM user or role
    (``MockKms.principal``): ``.arn``, ``.credentials``, ``.client()``, and for roles
    ``.assume(session_name)``. ``arn`` may be ``"user/<name>"`` or ``"role/<name>"`` for one of
    the mock's account. Its requests are authorized as AWS authorizes them (key policies,
    grants, its identity ``policies``)."""
    return kms_mock.principal
