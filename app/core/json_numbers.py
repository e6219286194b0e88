"""Numbers in request bodies as JSON means them: a JSON number, never a boolean or a string.

Pydantic's lax mode turns ``false`` into ``0`` and ``"5"`` into ``5`` (requests the OpenAPI
schema calls invalid, accepted); its strict mode refuses ``1.0`` for an integer, which JSON
Schema's ``integer`` accepts (a number with no fractional part). These types sit between the
two: booleans and strings are refused, then the lax rules apply (``1.0`` -> ``1``; ``1.5`` is
refused for an integer). Booleans use pydantic's ``StrictBool``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator


def _json_number(value: object) -> object:
    if isinstance(value, bool | str | bytes):
        raise ValueError("Input should be a JSON number")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_number)]
JsonFloat = Annotated[float, BeforeValidator(_json_number)]
