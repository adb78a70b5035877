"""Command line: ``mockkms demo`` (or ``python -m mockkms demo``) and ``mockkms serve``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockkms", description="In-memory mock of AWS KMS")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="walk through enabling and disabling a key, in memory")
    serve = sub.add_parser("serve", help="serve the mock over HTTP (KMS JSON 1.1 protocol)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4599)
    serve.add_argument("--state-dir", default=None)
    serve.add_argument("--seed", default=None)
    serve.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="close a connection that sends nothing for this long")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run
        return run()
    from .server import serve_forever
    return serve_forever(host=args.host, port=args.port, state_dir=args.state_dir,
                         seed=args.seed, request_timeout=args.request_timeout,
                         verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
