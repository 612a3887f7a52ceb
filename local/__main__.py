"""`python -m local` (what `make up` runs): starts the local stack in the foreground until Ctrl-C or
SIGTERM. `--json-ready` prints one JSON line instead of the banner, for scripts and tests."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from local.sri.simulator import ADMIN_PATH, BASE_PATH
from local.stack import DEFAULT_OUTBOX, Stack, start_stack


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {value}")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=_port, default=int(os.environ.get("SELLO_LOCAL_PORT", "3000")),
                        help="port of the API (default: $SELLO_LOCAL_PORT or 3000; 0: a free one)")
    parser.add_argument("--moto-port", type=_port, default=int(os.environ.get("SELLO_MOTO_PORT", "5050")),
                        help="port of the AWS emulator (default: $SELLO_MOTO_PORT or 5050; 0: a free one)")
    parser.add_argument("--outbox-dir", type=Path, default=DEFAULT_OUTBOX,
                        help="where every sent email is written as an .eml file (default: .local/outbox)")
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo account")
    parser.add_argument("--limits", action="store_true",
                        help="throttle requests as API Gateway does: per account key (its plan's usage plan) "
                             "and per public route (sello.plans); 429 with Retry-After over the limit")
    parser.add_argument("--json-ready", action="store_true",
                        help="print one JSON line with the URLs and the API key once ready")
    return parser.parse_args(argv)


def banner(stack: Stack) -> str:
    api = stack.api_url
    lines = [
        f"Sello local stack ready in {stack.startup_seconds:.1f} s",
        f"  API            {api}/v1",
        f"  Swagger UI     {api}/docs",
        f"  OpenAPI        {api}/openapi.json",
        f"  Outbox         {api}/_local/outbox   (and .eml files in {stack.outbox_dir})",
        f"  AWS emulator   {stack.moto_url}",
        f"  SRI simulator  {stack.sri_url}",
        f"  SRI sim state  {stack.sri_url.removesuffix(BASE_PATH)}{ADMIN_PATH}/state",
    ]
    if stack.api_key:
        lines += [
            f"  Demo account   {stack.account.get('email', '')} ({stack.account.get('id', '')})",
            f"  Test API key   {stack.api_key}",
            "",
            f"  curl -H 'Authorization: Bearer {stack.api_key}' {api}/v1/accounts/me",
        ]
    lines += ["", "Ctrl-C stops everything (state lives in memory and is gone after a restart)."]
    return "\n".join(lines)


def ready_line(stack: Stack) -> str:
    return json.dumps({
        "sello_local": "ready",
        "api_url": stack.api_url,
        "moto_url": stack.moto_url,
        "sri_url": stack.sri_url,
        "api_key": stack.api_key,
        "account": stack.account,
        "outbox_dir": str(stack.outbox_dir) if stack.outbox_dir else None,
        "startup_seconds": round(stack.startup_seconds, 3),
    }, default=str)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, _frame) -> None:
        if stop.is_set():  # asked again while stopping: leave at once
            os._exit(128 + signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    stack = start_stack(api_port=args.api_port, moto_port=args.moto_port, seed=not args.no_seed,
                        outbox_dir=args.outbox_dir, limits=args.limits)
    try:
        print(ready_line(stack) if args.json_ready else banner(stack), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        stack.stop()
    print("Stopped.", file=sys.stderr, flush=True)
    return 0


def leave(code: int) -> None:
    """Ends the process without tearing down the emulator's state object by object (all of it is in
    memory and gone anyway) and without waiting for workflow threads still running in it."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    leave(main())
