"""Small policy functions over a visible membership. Each answers one question."""

from __future__ import annotations

import uuid

from app.core.errors import Forbidden
from app.identity.errors import SecondFactorEnrolmentRequired, StepUpRequired
from app.identity.permissions import ROLE_RANK, Role, WorkspacePermission
from app.identity.principal import Principal


def can_manage_member(principal: Principal, workspace_id: uuid.UUID, target_role: Role) -> bool:
    """May the caller change or remove a member who currently holds ``target_role``?"""
    actor = principal.role_in(workspace_id)
    if actor is None or not principal.can(workspace_id, WorkspacePermission.MEMBERS_MANAGE):
        return False
    return ROLE_RANK[actor] >= ROLE_RANK[target_role]


def can_grant_role(principal: Principal, workspace_id: uuid.UUID, new_role: Role) -> bool:
    """May the caller give someone ``new_role`` (by role change or invitation)? Only owners
    make owners; admins grant up to admin."""
    actor = principal.role_in(workspace_id)
    if actor is None:
        return False
    return ROLE_RANK[actor] >= ROLE_RANK[new_role]


def check_second_factor_policy_change(
    principal: Principal, workspace_id: uuid.UUID, required: bool, *, factor_fresh: bool
) -> None:
    """Only owners set ``require_second_factor``, only owners who have a factor turn it on
    (an owner without one would lock themselves out of their own workspace), and an owner with
    a factor must have presented it within the step-up window (``factor_fresh``), as for every
    other dangerous action (docs/mfa.md)."""
    if principal.role_in(workspace_id) is not Role.OWNER:
        raise Forbidden("Only owners set the second-factor policy.", code="owner_only")
    if required and not principal.has_second_factor:
        raise SecondFactorEnrolmentRequired(
            "Enrol a second factor yourself first: POST /v1/auth/mfa/totp."
        )
    if principal.has_second_factor and not factor_fresh:
        raise StepUpRequired()
