"""docs/openapi.yaml: valid OpenAPI 3.1, listing exactly the API's statuses, and strict enough to fail a wrong answer.

That every status the API answers matches it is checked where the answers are made (test_statuses.py).
"""

from __future__ import annotations

import json

import pytest
from openapi_core.validation.response.exceptions import ResponseValidationError
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from tests.helpers import PHONE, ROOT, assert_in_openapi, post_json

SPEC = ROOT / "docs" / "openapi.yaml"


@pytest.fixture(scope="module")
def spec() -> dict:
    return read_from_filename(str(SPEC))[0]


def test_the_description_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_it_describes_the_two_routes_and_exactly_their_statuses(spec):
    paths = spec["paths"]
    assert set(paths) == {"/api/v1/send", "/api/v1/check"}
    assert set(paths["/api/v1/send"]["post"]["responses"]) == {
        "201", "400", "404", "405", "413", "415", "423", "429", "503"
    }  # fmt: skip
    assert set(paths["/api/v1/check"]["post"]["responses"]) == {
        "200", "400", "404", "405", "410", "413", "415", "423"
    }  # fmt: skip
    for path in paths.values():
        assert {method: set(operation["responses"]) for method, operation in path.items() if method != "post"} == {
            method: {"405"} for method in ("get", "put", "patch", "delete", "options")
        }


@pytest.mark.django_db
def test_an_answer_the_description_does_not_allow_fails_the_check(client, sms_outbox):
    sent = post_json(client, "/api/v1/send", {"phone": PHONE})
    assert_in_openapi(sent)
    sent.content = json.dumps({**sent.json(), "phone": PHONE}).encode()
    with pytest.raises(ResponseValidationError):
        assert_in_openapi(sent)

    cooldown = post_json(client, "/api/v1/send", {"phone": PHONE})
    assert_in_openapi(cooldown)
    del cooldown.headers["Retry-After"]
    with pytest.raises(ResponseValidationError):
        assert_in_openapi(cooldown)
