"""Workspaces, members, invitations, API keys and webhook endpoints, open to every signed-in user.

The flaw throughout: a route checks that *someone* is signed in, looks the id up in the whole
store and never asks whether the caller belongs to that workspace (the IDOR). Lists return
everyone's records. API keys are listed with their full secret, the OpenAPI example shows one,
and revoked keys keep authenticating (``web.caller``); webhook endpoints accept any URL.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response

from tests.scorecard.vulnerable.store import STORE, Record, next_id, now, page
from tests.scorecard.vulnerable.web import (
    answer,
    caller,
    listed,
    lookup,
    no_content,
    read_json,
    removed,
    text,
)

router = APIRouter()


def _workspace_view(workspace: Record, user: Record) -> Record:
    role = STORE.members.get(workspace["id"], {}).get(user["id"], "owner")
    return {k: workspace[k] for k in ("id", "name", "created_at")} | {"role": role}


@router.post("/v1/workspaces")
async def create_workspace(request: Request) -> Response:
    user = caller(request)
    data = await read_json(request)
    workspace = {"id": next_id(), "name": text(data, "name"), "created_at": now()}
    STORE.workspaces[workspace["id"]] = workspace
    STORE.members[workspace["id"]] = {user["id"]: "owner"}
    return answer(_workspace_view(workspace, user), 201)


@router.get("/v1/workspaces")
async def list_workspaces(request: Request) -> Response:
    user = caller(request)
    return answer(page([_workspace_view(w, user) for w in STORE.workspaces.values()]))


@router.get("/v1/workspaces/{workspace_id}")
async def get_workspace(workspace_id: str, request: Request) -> Response:
    user = caller(request)
    return answer(_workspace_view(lookup(STORE.workspaces, "workspace", workspace_id), user))


@router.patch("/v1/workspaces/{workspace_id}")
async def update_workspace(workspace_id: str, request: Request) -> Response:
    user = caller(request)
    workspace = lookup(STORE.workspaces, "workspace", workspace_id)
    data = await read_json(request)
    workspace["name"] = text(data, "name", workspace["name"])
    return answer(_workspace_view(workspace, user))


@router.delete("/v1/workspaces/{workspace_id}")
async def delete_workspace(workspace_id: str, request: Request) -> Response:
    caller(request)
    return removed(STORE.workspaces, "workspace", workspace_id)


@router.get("/v1/workspaces/{workspace_id}/members")
async def list_members(workspace_id: str, request: Request) -> Response:
    caller(request)
    lookup(STORE.workspaces, "workspace", workspace_id)
    items = [
        {
            "user_id": uid,
            "email": STORE.users[uid]["email"],
            "display_name": STORE.users[uid]["display_name"],
            "role": role,
            "joined_at": now(),
        }
        for uid, role in STORE.members.get(workspace_id, {}).items()
    ]
    return answer(page(items))


@router.patch("/v1/workspaces/{workspace_id}/members/{user_id}")
async def update_member(workspace_id: str, user_id: str, request: Request) -> Response:
    caller(request)
    data = await read_json(request)
    STORE.members.setdefault(workspace_id, {})[user_id] = data["role"]  # self-promotion welcome
    return answer({"user_id": user_id, "role": data["role"]})


@router.delete("/v1/workspaces/{workspace_id}/members/{user_id}")
async def remove_member(workspace_id: str, user_id: str, request: Request) -> Response:
    caller(request)
    STORE.members.get(workspace_id, {}).pop(user_id, None)
    return no_content()


@router.post("/v1/workspaces/{workspace_id}/invitations")
async def invite(workspace_id: str, request: Request) -> Response:
    caller(request)
    data = await read_json(request)
    token = secrets.token_urlsafe(16)
    body = {"id": next_id(), "workspace_id": workspace_id, "email": text(data, "email")}
    return answer(body | {"token": token, "created_at": now()}, 201)


@router.post("/v1/invitations/accept")
async def accept_invitation(request: Request) -> Response:
    caller(request)
    await read_json(request)
    return answer({"status": "accepted"})


# The documented example was pasted from a real answer: a live-looking key in /openapi.json (made
# per process here, so the repository holds none).
EXAMPLE_KEY = {"example": {"id": next_id(), "key": "lpk_" + secrets.token_urlsafe(24)}}


@router.post(
    "/v1/workspaces/{workspace_id}/api-keys",
    responses={201: {"content": {"application/json": EXAMPLE_KEY}}},
)
async def create_api_key(workspace_id: str, request: Request) -> Response:
    user = caller(request)
    data = await read_json(request)
    key = "lpk_" + secrets.token_urlsafe(24)
    record = {
        "id": next_id(),
        "workspace_id": workspace_id,
        "user_id": user["id"],
        "name": text(data, "name"),
        "prefix": key[:8],
        "scopes": data.get("scopes", []),
        "created_at": now(),
        "expires_at": None,
        "last_used_at": None,
        "revoked_at": None,
        "key": key,  # kept, and so listed again: the secret is not "shown once"
    }
    STORE.api_keys[record["id"]] = record
    STORE.key_secrets[key] = record["id"]
    return answer(_key_view(record), 201)


def _key_view(record: Record) -> Record:
    return {k: v for k, v in record.items() if k != "user_id"}


@router.get("/v1/workspaces/{workspace_id}/api-keys")
async def list_api_keys(workspace_id: str, request: Request) -> Response:
    caller(request)
    keys = [_key_view(k) for k in STORE.api_keys.values() if k["workspace_id"] == workspace_id]
    return answer(page(keys))


@router.delete("/v1/workspaces/{workspace_id}/api-keys/{key_id}")
async def revoke_api_key(workspace_id: str, key_id: str, request: Request) -> Response:
    caller(request)
    del workspace_id
    lookup(STORE.api_keys, "api key", key_id)["revoked_at"] = now()  # and still accepted
    return no_content()


def _signing_secret() -> Record:
    # pragma: allowlist nextline secret (made at run time)
    return {"secret": "whsec_" + secrets.token_urlsafe(24)}


def _endpoint(workspace_id: str, data: Record) -> Record:
    return {
        "id": next_id(),
        "workspace_id": workspace_id,
        "url": data["url"],
        "description": data.get("description", ""),
        "event_types": data.get("event_types", []),
        "include_content": bool(data.get("include_content", False)),
        "enabled": True,
        "disabled_reason": None,
        "consecutive_failures": 0,
        "failing_since": None,
        "disabled_at": None,
        "previous_secret_expires_at": None,
        "created_at": now(),
        "updated_at": None,
    }


@router.post("/v1/workspaces/{workspace_id}/webhook-endpoints")
async def create_endpoint(workspace_id: str, request: Request) -> Response:
    caller(request)
    endpoint = _endpoint(workspace_id, await read_json(request))
    STORE.endpoints[endpoint["id"]] = endpoint
    return answer(endpoint | _signing_secret(), 201)


@router.get("/v1/workspaces/{workspace_id}/webhook-endpoints")
async def list_endpoints(workspace_id: str, request: Request) -> Response:
    caller(request)
    return listed(STORE.endpoints, workspace_id)


@router.get("/v1/webhook-endpoints/{endpoint_id}")
async def get_endpoint(endpoint_id: str, request: Request) -> Response:
    caller(request)
    return answer(lookup(STORE.endpoints, "endpoint", endpoint_id))


@router.patch("/v1/webhook-endpoints/{endpoint_id}")
async def update_endpoint(endpoint_id: str, request: Request) -> Response:
    caller(request)
    endpoint = lookup(STORE.endpoints, "endpoint", endpoint_id)
    endpoint.update(await read_json(request))  # any field, id and workspace_id included
    return answer(endpoint)


@router.delete("/v1/webhook-endpoints/{endpoint_id}")
async def delete_endpoint(endpoint_id: str, request: Request) -> Response:
    caller(request)
    return removed(STORE.endpoints, "endpoint", endpoint_id)


@router.post("/v1/webhook-endpoints/{endpoint_id}/rotate-secret")
async def rotate_secret(endpoint_id: str, request: Request) -> Response:
    caller(request)
    endpoint = lookup(STORE.endpoints, "endpoint", endpoint_id)
    return answer(endpoint | _signing_secret())


@router.post("/v1/webhook-endpoints/{endpoint_id}/test")
async def test_endpoint(endpoint_id: str, request: Request) -> Response:
    caller(request)
    lookup(STORE.endpoints, "endpoint", endpoint_id)
    return answer({"delivery_id": next_id(), "webhook_id": "msg_" + secrets.token_hex(8)}, 202)


@router.get("/v1/webhook-endpoints/{endpoint_id}/deliveries")
async def list_deliveries(endpoint_id: str, request: Request) -> Response:
    caller(request)
    lookup(STORE.endpoints, "endpoint", endpoint_id)
    return answer(page([]))


@router.post("/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(endpoint_id: str, delivery_id: str, request: Request) -> Response:
    caller(request)
    lookup(STORE.endpoints, "endpoint", endpoint_id)
    return answer({"delivery_id": delivery_id, "webhook_id": "msg_" + secrets.token_hex(8)}, 202)


@router.post("/v1/webhook-endpoints/{endpoint_id}/recover")
async def recover(endpoint_id: str, request: Request) -> Response:
    caller(request)
    lookup(STORE.endpoints, "endpoint", endpoint_id)
    return answer({"requeued": 0}, 202)
