"""The tool catalogue itself: what the model is shown holds no credential and no tenant ids."""

from __future__ import annotations

import json

import pytest

from app.bots.tool_names import ToolName
from app.core.secret_scan import find_secret_types
from app.tools.registry import REGISTRY

pytestmark = pytest.mark.checklist(
    "C3",
    "C12",
    red="add a workspace_id or user_id parameter to a tool's argument schema, allow "
    "additionalProperties, or put a credential in a tool's description",
)


def test_every_tool_name_is_registered() -> None:
    assert set(REGISTRY) == set(ToolName)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_descriptions_and_schemas_carry_no_secret(name: ToolName) -> None:
    shown = json.dumps(REGISTRY[name].openai_schema())
    assert find_secret_types(shown) == []


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_arguments_never_take_tenant_or_user_ids(name: ToolName) -> None:
    """Ids come from the caller's principal, never from the model: no such parameter exists,
    and unknown ones are refused (``additionalProperties: false``)."""
    schema = REGISTRY[name].arguments.model_json_schema()
    assert schema.get("additionalProperties") is False
    for field in schema.get("properties", {}):
        assert not field.endswith("_id"), field


def test_the_scanner_would_catch_a_planted_secret() -> None:
    planted = "Use key " + "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    assert find_secret_types(planted) != []
