"""The OpenAPI examples are valid requests and hold nothing secret (C4, C7).

Each example is validated by the very pydantic model the route parses with (formats, patterns,
enums, the e-mail and domain rules), so Swagger's "Try it out" starts from a body the server
accepts, and schemathesis' examples phase sends real requests. Examples are scanned for
credentials like every other client-visible text.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

import pytest
from pydantic import BaseModel

from app.api_keys.schemas import ApiKeyCreate
from app.bots.schemas import BotCreate
from app.conversations.schemas import ConversationCreate, MessageCreate
from app.core.config import Environment, Settings
from app.core.secret_scan import find_secret_types
from app.invitations.schemas import InvitationCreate
from app.main import create_app
from app.webhooks.outbound.schemas import EndpointCreate
from app.workspaces.schemas import WorkspaceCreate

pytestmark = pytest.mark.checklist(
    "C7", red="an example the model refuses (say, a model name the deployment does not offer)"
)

EXAMPLED: tuple[type[BaseModel], ...] = (
    ApiKeyCreate,
    BotCreate,
    ConversationCreate,
    EndpointCreate,
    InvitationCreate,
    MessageCreate,
    WorkspaceCreate,
)


@cache
def document() -> dict[str, Any]:
    settings = Settings(
        environment=Environment.TEST,
        secret_key=secrets.token_urlsafe(48),
        docs_enabled=True,
        allowed_hosts=["127.0.0.1"],
    )
    return create_app(settings).openapi()


def test_every_example_in_the_document_is_listed_here() -> None:
    schemas = document()["components"]["schemas"]
    with_examples = {name for name, schema in schemas.items() if schema.get("examples")}
    assert with_examples == {model.__name__ for model in EXAMPLED}


@pytest.mark.parametrize("model", EXAMPLED, ids=lambda model: model.__name__)
def test_examples_are_accepted_by_their_model_and_hold_no_secret(model: type[BaseModel]) -> None:
    examples = document()["components"]["schemas"][model.__name__]["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)
        assert find_secret_types(repr(example)) == []
