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

from local.pac.simulator import ADMIN_PATH as PAC_ADMIN_PATH
from local.sri.simulator import ADMIN_PATH, BASE_PATH
from local.stack import DEFAULT_OUTBOX, PortUnavailable, Stack, start_stack

# Each port the stack listens on: (what it is, its flag, its environment variable, its default).
PORTS = {
    "api": ("the API", "--api-port", "SELLO_LOCAL_PORT", 3000),
    "moto": ("the AWS emulator", "--moto-port", "SELLO_MOTO_PORT", 5050),
    "sri": ("the SRI simulator", "--sri-port", "SELLO_SRI_PORT", 3001),
    "pac": ("the PAC simulator", "--pac-port", "SELLO_PAC_PORT", 3002),
}


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {value}")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=" ".join(__doc__.split("\n\n")[0].split()))
    for service, (what, flag, variable, default) in PORTS.items():
        value = os.environ.get(variable) or str(default)
        try:
            port = _port(value)
        except (ValueError, argparse.ArgumentTypeError):
            parser.error(f"{variable}={value!r} is not a port (0 to 65535)")
        parser.add_argument(flag, dest=f"{service}_port", type=_port, default=port,
                            help=f"port of {what} (default: ${variable} or {default}; 0: a free one)")
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
        f"  PAC simulator  {stack.pac_url}   (SW Sapien's REST API, Mexico)",
        f"  PAC sim state  {stack.pac_url}{PAC_ADMIN_PATH}/state",
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
        "pac_url": stack.pac_url,
        "api_key": stack.api_key,
        "account": stack.account,
        "outbox_dir": str(stack.outbox_dir) if stack.outbox_dir else None,
        "startup_seconds": round(stack.startup_seconds, 3),
    }, default=str)


def port_message(error: PortUnavailable) -> str:
    what, flag, variable, _ = PORTS[error.service]
    return (f"Cannot start: port {error.port} for {what} is {error.reason}.\n"
            f"Choose another one with {flag} <port> or {variable}=<port> (0 picks a free port), "
            f"or stop the program that holds it.")


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM while the stack was starting."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    signals: list[int] = []

    def while_starting(signum: int, _frame) -> None:
        # Start-up is abandoned at once (start_stack stops what it started); asked again while that
        # clean-up runs: leave without waiting for it.
        if signals:
            os._exit(128 + signum)
        signals.append(signum)
        raise Interrupted(signum)

    def on_signal(signum: int, _frame) -> None:
        if stop.is_set():  # asked again while stopping: leave at once
            os._exit(128 + signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, while_starting)
    print("Starting the local stack (Ctrl-C stops it)…", file=sys.stderr, flush=True)
    try:
        stack = start_stack(api_port=args.api_port, moto_port=args.moto_port, sri_port=args.sri_port,
                            pac_port=args.pac_port,
                            seed=not args.no_seed, outbox_dir=args.outbox_dir, limits=args.limits)
    except PortUnavailable as exc:
        print(port_message(exc), file=sys.stderr, flush=True)
        return 2
    except Interrupted as exc:
        print("Interrupted while starting; stopped.", file=sys.stderr, flush=True)
        return 128 + exc.signum
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
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
