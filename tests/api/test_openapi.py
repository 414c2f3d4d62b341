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
        "201", "400", "404", "413", "415", "423", "429", "503"
    }  # fmt: skip
    assert set(paths["/api/v1/check"]["post"]["responses"]) == {
        "200", "400", "404", "410", "413", "415", "423"
    }  # fmt: skip
    # Only POST is an operation: tools read any method listed as one the route serves. The others' 405 is said once.
    assert [list(path) for path in paths.values()] == [["post"], ["post"]]
    assert "405" in spec["info"]["description"] and "MethodNotAllowed" in spec["components"]["responses"]


def test_a_send_links_its_challenge_to_the_check(spec):
    links = spec["paths"]["/api/v1/send"]["post"]["responses"]["201"]["links"]
    operations = {op["operationId"]: op for path in spec["paths"].values() for op in path.values()}
    check = links["check"]
    assert operations[check["operationId"]] is spec["paths"]["/api/v1/check"]["post"]
    assert check["requestBody"] == {"challenge": "$response.body#/challenge"}
    # The expression names a property the send's answer has and the check's request requires.
    assert "challenge" in spec["components"]["schemas"]["Sent"]["required"]
    check_request = operations["check"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert "challenge" in spec["components"]["schemas"][check_request]["required"]


@pytest.mark.django_db
def test_a_405_to_any_other_method_is_the_described_answer(client):
    for method in ("get", "put", "patch", "delete", "options"):
        answer = getattr(client, method)("/api/v1/send")
        assert answer.status_code == 405
        assert_in_openapi(answer)
    answer = client.get("/api/v1/check")
    answer.content = json.dumps({"error": "method_not_allowed"}).encode()
    with pytest.raises(ResponseValidationError):
        assert_in_openapi(answer)


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
