import pytest
from django.test import RequestFactory

from verification import client_ip as client_ip_module
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


@pytest.fixture
def new_process():
    """Forget that this process already warned about X-Forwarded-For, as a freshly started worker would."""
    client_ip_module._ignored_forwarding.clear()


def test_a_forwarded_header_without_trusted_proxies_is_reported_once(new_process, caplog):
    for forwarded in ("203.0.113.9", "198.51.100.7", "203.0.113.9"):
        assert client_ip(request_from("10.0.0.5", forwarded)) == "10.0.0.5"
    [warning] = [r for r in caplog.records if "X-Forwarded-For" in r.getMessage()]
    assert warning.levelname == "WARNING" and "OTP_TRUSTED_PROXY_COUNT" in warning.getMessage()
    # What the client wrote in the header is not repeated into the log.
    assert "203.0.113.9" not in caplog.text


def test_no_warning_without_the_header_or_with_trusted_proxies(new_process, settings, caplog):
    client_ip(request_from("10.0.0.5"))
    settings.OTP_TRUSTED_PROXY_COUNT = 1
    client_ip(request_from("10.0.0.5", "203.0.113.9"))
    assert "X-Forwarded-For" not in caplog.text
