import pytest
from django.test import RequestFactory

from verification.client_ip import client_ip


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_remote_addr_by_default_even_with_a_forwarded_header():
    assert client_ip(request_from("10.0.0.5", "203.0.113.9")) == "10.0.0.5"


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        # A client-supplied entry on the left is ignored: one proxy appended the real address.
        (1, "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        (2, "1.2.3.4, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, "2001:db8::1", "2001:db8::1"),
        # Fewer entries than proxies, or garbage: fall back to the peer.
        (2, "203.0.113.9", "10.0.0.5"),
        (1, "not-an-ip", "10.0.0.5"),
        (1, "", "10.0.0.5"),
    ],
)
def test_trusted_proxies_take_the_nth_address_from_the_right(settings, hops, forwarded, expected):
    settings.OTP_TRUSTED_PROXY_COUNT = hops
    assert client_ip(request_from("10.0.0.5", forwarded)) == expected
