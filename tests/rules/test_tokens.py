from __future__ import annotations

from verification.tokens import default_code_generator as generator

PHONE = "+33612345678"


def test_codes_are_digits_of_the_configured_length(settings):
    codes = {generator.make_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isascii() and code.isdigit() for code in codes)
    assert len(codes) > 190
    settings.OTP_LENGTH = 9
    assert len(generator.make_code()) == 9


def test_hash_checks_the_right_code_only():
    encoded = generator.make_hash(PHONE, "123456")
    assert "123456" not in encoded
    assert generator.check_code(PHONE, "123456", encoded)
    assert not generator.check_code(PHONE, "123457", encoded)
    assert not generator.check_code("+33612345679", "123456", encoded)


def test_each_hash_has_its_own_salt():
    assert generator.make_hash(PHONE, "123456") != generator.make_hash(PHONE, "123456")


def test_hash_depends_on_secret_key(settings):
    encoded = generator.make_hash(PHONE, "123456")
    settings.SECRET_KEY = "another secret key that is long enough for this test"
    assert not generator.check_code(PHONE, "123456", encoded)


def test_malformed_stored_hash_never_matches():
    for encoded in ["", "$", "salt$", "$digest", "no-separator"]:
        assert not generator.check_code(PHONE, "123456", encoded)
