"""The rules for customer URLs (no SSRF) and the pinned sender: what is refused and why, that the
request goes to the checked address with the URL's name kept for TLS and Host, and that redirects,
slow answers and long answers are handled."""

from __future__ import annotations

import time

import pytest

from sello.errors import Unprocessable
from sello.adapters.webhook_http import Target, check_url, is_global_address, post
from tests.webhook_receiver import Receiver


def resolver(*addresses):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.8.8.8", "0.0.0.0", "100.64.0.1",
    "169.254.169.254", "169.254.1.1", "192.0.0.8", "198.18.0.1", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "::", "::1", "fc00::1", "fd00:ec2::254", "fe80::1", "fe80::1%eth0", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::7f00:1", "64:ff9b::a00:1",
    "2002:a00:1::",
])
def test_non_global_addresses_are_refused(address):
    assert not is_global_address(address)
    with pytest.raises(Unprocessable) as refused:
        check_url("https://hooks.example.com/in", resolver=resolver(address))
    assert (refused.value.code, refused.value.path, refused.value.reason) == \
        ("webhook_url_not_allowed", "url", "address")


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::6810:84e5", "::ffff:8.8.8.8"])
def test_global_addresses_are_allowed(address):
    target = check_url("https://hooks.example.com:8443/in?x=1", resolver=resolver(address))
    assert (target.host, target.port, target.address) == ("hooks.example.com", 8443, address)


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    """A host that answers with a public and a private address could be connected to either."""
    with pytest.raises(Unprocessable):
        check_url("https://rebind.example.com/", resolver=resolver("8.8.8.8", "10.1.2.3"))


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hooks.example.com/in", "scheme"),
    ("ftp://hooks.example.com/in", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("https://user:pass@hooks.example.com/in", "userinfo"),
    ("https://user@hooks.example.com/in", "userinfo"),
    ("https:///in", "host"),
    ("https://hooks.example.com:99999/", "host"),
    ("https://hooks.example.com/" + "a" * 3000, "host"),
])
def test_malformed_or_unsafe_urls_are_refused(url, reason):
    with pytest.raises(Unprocessable) as refused:
        check_url(url, resolver=resolver("8.8.8.8"))
    assert refused.value.reason == reason


def test_unresolvable_host_is_refused():
    def fails(host, port):
        raise OSError("no such host")

    with pytest.raises(Unprocessable) as refused:
        check_url("https://nowhere.invalid/", resolver=fails)
    assert refused.value.reason == "unresolvable"


def test_ip_literals_are_checked_too():
    with pytest.raises(Unprocessable):
        check_url("https://169.254.169.254/latest/meta-data/")
    with pytest.raises(Unprocessable):
        check_url("https://[::ffff:7f00:1]/")


def test_loopback_http_only_with_the_local_setting():
    with pytest.raises(Unprocessable):
        check_url("http://127.0.0.1:8080/hooks")
    target = check_url("http://127.0.0.1:8080/hooks", allow_loopback_http=True)
    assert target.address == "127.0.0.1"
    # the setting opens loopback only: private networks and metadata stay closed, and plain http elsewhere
    for url, address in (("http://10.0.0.1/", "10.0.0.1"), ("http://169.254.169.254/", "169.254.169.254"),
                         ("http://hooks.example.com/", "8.8.8.8")):
        with pytest.raises(Unprocessable):
            check_url(url, allow_loopback_http=True, resolver=resolver(address))


def test_the_request_goes_to_the_pinned_address_with_the_urls_name_for_tls_and_host(tmp_path):
    with Receiver(statuses=[200], answer=b"ok", tls_dir=tmp_path) as receiver:
        # receiver.example resolves nowhere: only the pinned address can reach the receiver
        target = Target(url=f"https://receiver.example:{receiver.port}/hooks?a=1", scheme="https",
                        host="receiver.example", port=receiver.port, address="127.0.0.1")
        answer = post(target, b'{"x":1}', {"content-type": "application/json", "webhook-id": "evt_1"},
                      ssl_context=receiver.client_context)
    assert (answer.status, answer.ok, answer.excerpt, answer.error) == (200, True, "ok", None)
    request, = receiver.received
    assert request.headers["host"] == f"receiver.example:{receiver.port}"
    assert (request.path, request.body, request.headers["webhook-id"]) == ("/hooks?a=1", b'{"x":1}', "evt_1")


def test_tls_to_a_name_the_certificate_does_not_cover_fails(tmp_path):
    with Receiver(tls_dir=tmp_path) as receiver:
        target = Target(url=f"https://other.example:{receiver.port}/", scheme="https", host="other.example",
                        port=receiver.port, address="127.0.0.1")
        answer = post(target, b"{}", {}, ssl_context=receiver.client_context)
    assert answer.status is None and answer.error.startswith("connection")
    assert not answer.ok


def local(receiver: Receiver) -> Target:
    return check_url(receiver.url, allow_loopback_http=True)


def test_redirects_are_failures_and_not_followed():
    with Receiver(statuses=[302]) as receiver:
        answer = post(local(receiver), b"{}", {})
    assert (answer.status, answer.ok) == (302, False)
    assert len(receiver.received) == 1


def test_only_an_excerpt_of_the_answer_is_kept():
    with Receiver(statuses=[500], answer=b"x" * 100_000) as receiver:
        answer = post(local(receiver), b"{}", {}, excerpt_bytes=512)
    assert (answer.status, len(answer.excerpt)) == (500, 512)


def test_a_slow_receiver_times_out():
    with Receiver(delay=2.0) as receiver:
        started = time.monotonic()
        answer = post(local(receiver), b"{}", {}, timeout=0.5)
    assert (answer.status, answer.error) == (None, "timeout")
    assert time.monotonic() - started < 1.9


def test_nothing_listening_is_a_connection_error():
    with Receiver() as receiver:
        target = local(receiver)
    answer = post(target, b"{}", {})
    assert answer.status is None and answer.error.startswith("connection")
