"""Request bodies take numbers and booleans only as JSON numbers and booleans (C7).

Pydantic's lax mode turns ``false`` into ``0.0`` and ``"5"`` into ``5``: a request the schema
calls invalid was accepted (schemathesis found ``PATCH /v1/bots/{id}`` with
``"temperature": false`` answering 200). Every int and float a request body can carry must be
a ``JsonInt``/``JsonFloat`` (app/core/json_numbers.py: booleans and strings refused, ``1.0``
still an integer as JSON Schema says) and every bool strict; this walks each body model's
validation schema, so a new field is covered the moment a route takes it. (Query and path
parameters are strings on the wire and stay lax.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.api import api_router
from app.core.json_numbers import JsonFloat, JsonInt, _json_number

pytestmark = pytest.mark.checklist(
    "C7", red="a request body field typed plain int, float or bool (lax: false -> 0.0)"
)
SCALARS = frozenset({"int", "float", "bool"})


def body_models() -> dict[str, type[BaseModel]]:
    models: dict[str, type[BaseModel]] = {}
    for context in iter_route_contexts(api_router.routes):
        dependant = getattr(context, "dependant", None)
        for param in dependant.body_params if dependant is not None else ():
            annotation = param.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                models[annotation.__name__] = annotation
    return models


def _guarded(schema: dict[str, Any]) -> bool:
    """A ``JsonInt``/``JsonFloat``: the lax validator behind the JSON-number pre-check."""
    function = schema.get("function")
    inner = function.get("function") if isinstance(function, dict) else function
    return schema.get("type") == "function-before" and inner is _json_number


def lax_scalars(schema: Any, path: str = "") -> Iterator[str]:
    """Paths of int/float/bool validators that would take a boolean or a string."""
    if isinstance(schema, dict):
        if _guarded(schema):
            return
        # A model field called "type" (WebAuthn's credential type) puts a dict under "type".
        kind = schema.get("type")
        if isinstance(kind, str) and kind in SCALARS and not schema.get("strict"):
            yield f"{path} ({schema['type']})"
        for key, value in schema.items():
            yield from lax_scalars(value, f"{path}.{key}" if path else str(key))
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from lax_scalars(item, f"{path}[{index}]")


def test_json_numbers_refuse_booleans_and_strings_and_take_whole_floats() -> None:
    assert TypeAdapter(JsonInt).validate_python(1.0) == 1
    assert TypeAdapter(JsonFloat).validate_python(1) == 1.0
    for value in (True, False, "5", b"5"):
        with pytest.raises(ValidationError):
            TypeAdapter(JsonInt).validate_python(value)
        with pytest.raises(ValidationError):
            TypeAdapter(JsonFloat).validate_python(value)
    with pytest.raises(ValidationError):
        TypeAdapter(JsonInt).validate_python(1.5)


def test_the_walk_sees_the_body_models() -> None:
    assert {"BotCreate", "BotUpdate", "EndpointCreate", "ApiKeyCreate"} <= set(body_models())


@pytest.mark.parametrize("name", sorted(body_models()))
def test_body_scalars_are_strict(name: str) -> None:
    model = body_models()[name]
    assert list(lax_scalars(model.__pydantic_core_schema__)) == []
