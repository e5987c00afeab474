"""The OpenAPI document fuzzed against the running API: no input makes it fail with a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.schemas import BaseSchema

from tests.api.conftest import ADMIN_TOKEN, Api


@pytest.fixture
def api_schema(api: Api) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{api.base}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        checks=[schemathesis.checks.not_a_server_error],
    )
