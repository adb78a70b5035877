"""Command line: ``mockkms demo`` (or ``python -m mockkms demo``), ``mockkms serve`` and
``mockkms --version``."""
from __future__ import annotations

import argparse
import sys
from typing import Callable, TypeVar

from . import __version__

_N = TypeVar("_N", int, float)

_SERVE = """\
Serve the mock over HTTP, speaking AWS KMS's JSON 1.1 protocol at POST / (point any SDK's
endpoint URL at it), with admin endpoints under /_mockkms/ (health, state, reset, advance,
principals, assume-role).
State is in memory unless --state-dir is given. Stop it with Ctrl+C or SIGTERM.
Details: docs/server.md."""


def _positive(kind: Callable[[str], _N]) -> Callable[[str], _N]:
    def parse(text: str) -> _N:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text}")
    return value


def _region(text: str) -> str:
    from ._regions import exists

    if not exists(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an AWS Region (botocore's partition data does not list it); "
            "give one like us-east-1")
    return text


def parser() -> argparse.ArgumentParser:
    from ._mock import DEFAULT_REGION
    from .server.app import CALL_LOG, MAX_BODY
    from .server.httpd import DEFAULTS

    top = argparse.ArgumentParser(prog="mockkms", description="In-memory mock of AWS KMS")
    top.add_argument("--version", action="version", version=f"mockkms {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="walk through enabling and disabling a key, in memory")
    serve = sub.add_parser("serve", help="serve the mock over HTTP (KMS JSON 1.1 protocol)",
                           description=_SERVE,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    add = serve.add_argument
    add("--host", default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only; 0.0.0.0 or :: "
             "listens on every interface)")
    add("--port", type=int, default=4599,
        help="TCP port (default: %(default)s; 0 lets the system choose, the URL line shows it)")
    add("--region", type=_region, default=DEFAULT_REGION, metavar="REGION",
        help="region of requests that name none (unsigned, or sent to an endpoint URL that "
             "names no region); signed requests use the region they are signed for "
             "(default: %(default)s)")
    add("--state-dir", default=None, metavar="DIR",
        help="keep state in DIR across restarts (default: none, state lives in memory only)")
    add("--seed", default=None, metavar="FILE",
        help="preload keys from a seed file, on the first start of a state directory "
             "(default: none)")
    add("--request-timeout", type=_positive(float), default=DEFAULTS["request_timeout"],
        metavar="SECONDS",
        help="whole-request deadline: a request whose line, headers and body have not all "
             "arrived this long after it started is answered 408 and its connection closed "
             "(default: %(default)s)")
    add("--idle-timeout", type=_positive(float), default=DEFAULTS["idle_timeout"],
        metavar="SECONDS",
        help="close a kept-alive connection that sends no new request for this long "
             "(default: %(default)s)")
    add("--threads", type=_positive(int), default=DEFAULTS["threads"], metavar="N",
        help="connection worker threads (per process): requests read and answered at once; "
             "idle connections hold none (default: %(default)s)")
    add("--workers", type=_positive(int), default=1, metavar="N",
        help="server processes sharing the listening socket and the state directory; more "
             "than 1 needs --state-dir (default: %(default)s)")
    add("--max-connections", type=_positive(int), default=DEFAULTS["max_connections"],
        metavar="N",
        help="open connections at most; beyond it the longest-idle one is closed, or "
             "accepting waits (default: %(default)s)")
    add("--call-log-size", type=_not_negative, default=CALL_LOG, metavar="N",
        help="calls kept in the server's call log; beyond it the oldest are dropped "
             "(default: %(default)s; 0 keeps none)")
    add("--allow-host", action="append", default=[], metavar="NAME", dest="allowed_hosts",
        help="a host name the admin endpoints accept in Host, and requests in Origin, besides "
             "localhost, 127.0.0.1, [::1] and --host; repeatable, e.g. a container's service "
             "name when clients reach the server by it (default: none)")
    add("--no-authorization", action="store_false", dest="authorization",
        help="evaluate no key policies, grants or identity policies: every caller may do "
             "everything (default: requests are authorized as in AWS; docs/authorization.md)")
    add("--verbose", action="store_true",
        help="log one line per request to stderr: operation, account/Region, status, error "
             "code or OK, duration (never a body) (default: off)")
    serve.epilog = (f"Request bodies over {MAX_BODY} bytes are refused unread (413). Requests "
                    "with a foreign Origin header\nare refused (403); the admin endpoints also "
                    "refuse a foreign Host header and accept only\nContent-Type: "
                    "application/json.")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run
        return run()
    from .server import serve_forever
    return serve_forever(host=args.host, port=args.port, region=args.region,
                         state_dir=args.state_dir,
                         seed=args.seed, request_timeout=args.request_timeout,
                         idle_timeout=args.idle_timeout, threads=args.threads,
                         workers=args.workers,
                         max_connections=args.max_connections, call_log_size=args.call_log_size,
                         allowed_hosts=args.allowed_hosts, verbose=args.verbose,
                         authorization=args.authorization)


if __name__ == "__main__":
    sys.exit(main())
