"""Second factors and the model list, as the imitation serves them: behind the same weak
``caller`` check as every other private route (tampered and signed-out cookies accepted), and
enforcing nothing (no factor is ever required, any code is accepted). Present so the
authentication checks meet every private route of the inventory, as on the real service.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tests.scorecard.vulnerable.web import answer, caller

router = APIRouter()


@router.get("/v1/auth/mfa")
async def factor_status(request: Request) -> Response:
    caller(request)
    return answer({"totp": False, "recovery_codes_left": 0})


@router.post("/v1/auth/mfa/totp")
@router.post("/v1/auth/mfa/totp/confirm")
@router.post("/v1/auth/mfa/recovery-codes")
@router.post("/v1/auth/step-up")
@router.delete("/v1/auth/mfa/totp")
async def factor_action(request: Request) -> Response:
    caller(request)
    return answer({"accepted": True})


@router.get("/v1/me/second-factors/passkeys")
async def passkeys(request: Request) -> Response:
    caller(request)
    return answer({"items": []})


@router.post("/v1/auth/step-up/passkey-options")
@router.post("/v1/me/second-factors/passkey-options")
@router.post("/v1/me/second-factors/passkeys")
async def passkey_action(request: Request) -> Response:
    caller(request)
    return answer({"accepted": True})


@router.patch("/v1/me/second-factors/passkeys/{passkey_id}")
@router.delete("/v1/me/second-factors/passkeys/{passkey_id}")
async def one_passkey(passkey_id: str, request: Request) -> Response:
    caller(request)
    return answer({"id": passkey_id})


@router.post("/v1/admin/users/{user_id}/second-factors/reset")
async def reset_factors(user_id: str, request: Request) -> Response:
    caller(request)  # any signed-in user: no staff check, like the other admin routes
    return answer({"id": user_id})


@router.get("/v1/models")
async def models(request: Request) -> Response:
    caller(request)
    return answer({"items": ["vulnerable-model"]})
