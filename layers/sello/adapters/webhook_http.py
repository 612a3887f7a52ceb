"""Sending one event to a URL a customer gave, without letting that URL reach inside Sello (SSRF).

The rules, applied when an endpoint is registered and again before every delivery (DNS answers
change): only https (plain http to a loopback address only where the local stack allows it), no
user name or password in the URL, and every address the host resolves to must be global: private,
loopback, link-local (the cloud metadata address 169.254.169.254), shared, reserved, multicast and
IPv6 unique-local addresses are refused, also when an IPv6 address embeds an IPv4 one. The request
then goes to the address that was checked (a second lookup could answer differently: DNS rebinding)
while TLS and the Host header keep the URL's name. Redirects are not followed (a 3xx is a failure),
each network step waits at most the timeout, and only a short excerpt of the answer is read."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore

from sello.errors import Unprocessable
from sello.i18n import Message, _l

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_EXCERPT_BYTES = 512
MAX_URL_LENGTH = 2048

# Ranges Python's `is_global` lets through but that no receiver of events lives in.
_NOT_GLOBAL_EXTRA = tuple(ipaddress.ip_network(net) for net in (
    "192.0.0.0/24",  # IETF protocol assignments
    "224.0.0.0/3",  # multicast and the reserved 240/4
    "ff00::/8",  # IPv6 multicast
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Resolver = Callable[[str, int], list[str]]


URL_NOT_ALLOWED = "webhook_url_not_allowed"


def _refused(message: Message, reason: str) -> Unprocessable:
    """422 webhook_url_not_allowed at `url`; `reason` (scheme, userinfo, host, unresolvable, address) is
    kept on the error for delivery records, which have no reader's language."""
    error = Unprocessable(message, code="webhook_url_not_allowed", path="url")
    error.reason = reason
    return error


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: mapped, compatible, NAT64, 6to4 or Teredo forms."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if int(ip) >> 32 == 0 and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


def is_global_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        ip = inner
    return ip.is_global and not any(ip.version == net.version and ip in net for net in _NOT_GLOBAL_EXTRA)


def is_loopback_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@dataclass(frozen=True)
class Target:
    """A checked URL and the address the request goes to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def check_url(url: str, *, allow_loopback_http: bool = False, resolver: Resolver = resolve) -> Target:
    """The URL's target when the rules above allow it; 422 webhook_url_not_allowed otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname
    except ValueError:
        raise _refused(_l("The URL is not valid."), reason="host") from None
    if len(url) > MAX_URL_LENGTH:
        raise _refused(_l("The URL is longer than {limit} characters.", limit=MAX_URL_LENGTH), reason="host")
    if parts.scheme not in ("https", "http"):
        raise _refused(_l("The URL must start with https://."), reason="scheme")
    if parts.username is not None or parts.password is not None:
        raise _refused(_l("The URL cannot carry a user name or password."), reason="userinfo")
    if not host:
        raise _refused(_l("The URL has no host."), reason="host")
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise _refused(_l("The URL's host {host} could not be resolved.", host=host), reason="unresolvable")
    local = allow_loopback_http and all(is_loopback_address(address) for address in addresses)
    if parts.scheme != "https" and not local:
        raise _refused(_l("The URL must start with https://."), reason="scheme")
    if not local and not all(is_global_address(address) for address in addresses):
        raise _refused(_l("The URL's host {host} resolves to an address that is not public (private, "
                           "loopback, link-local or reserved); events are sent only to the internet.",
                           host=host), reason="address")
    return Target(url=url, scheme=parts.scheme, host=host, port=port, address=addresses[0])


@dataclass(frozen=True)
class Response:
    """What is kept of one attempt: no status when the request did not get an answer (then `error`)."""

    status: int | None
    duration_ms: int
    excerpt: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedBackend(httpcore.SyncBackend):
    """Opens every connection to the checked address, whatever name the URL has."""

    def __init__(self, address: str):
        self.address = address

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return super().connect_tcp(self.address, port, timeout, local_address, socket_options)


def post(target: Target, body: bytes, headers: dict[str, str], *,
         timeout: float = DEFAULT_TIMEOUT_SECONDS, excerpt_bytes: int = DEFAULT_EXCERPT_BYTES,
         ssl_context: ssl.SSLContext | None = None) -> Response:
    """POST the body to the target's address; never raises for what the other side does."""
    started = time.monotonic()
    deadline = started + timeout

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    pool = httpcore.ConnectionPool(ssl_context=ssl_context or ssl.create_default_context(),
                                   network_backend=_PinnedBackend(target.address), retries=0)
    request_headers = [(name.encode(), value.encode()) for name, value in headers.items()]
    try:
        with pool.stream("POST", target.url, headers=request_headers, content=body,
                         extensions={"timeout": dict.fromkeys(("connect", "read", "write", "pool"), timeout)}) as answer:
            excerpt = b""
            for chunk in answer.iter_stream():
                excerpt += chunk
                if len(excerpt) >= excerpt_bytes or time.monotonic() > deadline:
                    break
            status = answer.status
    except httpcore.TimeoutException:
        return Response(None, elapsed(), "", error="timeout")
    except (httpcore.ConnectError, httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
        return Response(None, elapsed(), "", error=f"connection: {type(exc).__name__}")
    finally:
        pool.close()
    return Response(status, elapsed(), excerpt[:excerpt_bytes].decode("utf-8", "replace"))
