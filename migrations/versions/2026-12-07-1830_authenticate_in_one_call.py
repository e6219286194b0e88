"""Authentication in one round trip: a session or an API key to its principal and RLS binding.

Every authenticated request ran two statements before this (the credential lookup, then the
memberships read that binds ``app.workspace_ids``; an API key four). These functions do the
same steps, in the same order, in one call. PL/pgSQL rather than one SQL statement because the
order *is* the control: ``app.membership_probe`` must be set before the memberships are read and
cleared before anything else runs, ``app.credential_hash`` must be cleared right after the key
row is read, and the ``workspace`` policy must see the bound memberships before the
second-factor policy is read. A single statement gives no such order (projection and lateral
evaluation order is a planner detail); statements in a function run one after another, each
seeing the settings the previous one wrote. Every column is qualified: PL/pgSQL's default
``variable_conflict = error`` then refuses any name that could mean an output variable and a
column at once, instead of silently picking one.

``SECURITY INVOKER`` (the default, spelled out): they run as the calling app role, every
row-level-security policy applies exactly as to the statements they replace, and nothing is
readable through them that the caller could not read itself. They only write transaction-local
settings (``set_config(..., true)``), which vanish at commit or rollback.

Revision ID: 0012_authenticate_in_one_call
Revises: 0011_passkeys
Create Date: 2026-12-07 18:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_authenticate_in_one_call"
down_revision: str | None = "0011_passkeys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A live session (any hash of the SECRET_KEY ring) of an active user: the user's columns, the
# memberships bound as app.workspace_ids, and, for a user without a second factor, the
# workspaces whose owners require one taken out again and named in ``withheld`` (docs/mfa.md).
AUTHENTICATE_SESSION = """
CREATE FUNCTION app_authenticate_session(token_hashes bytea[], moment timestamptz)
RETURNS TABLE (
    session_id uuid, last_seen_at timestamptz, token_hash bytea,
    factor_verified_at timestamptz, second_factor_at timestamptz,
    user_id uuid, email text, display_name text, is_staff boolean,
    email_verified_at timestamptz, created_at timestamptz,
    workspace_ids uuid[], roles text[], withheld uuid[]
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
    -- user_session and user_account carry no RLS: authentication precedes any principal.
    SELECT s.id, s.last_seen_at, s.token_hash, s.factor_verified_at, u.second_factor_at,
           u.id, u.email, u.display_name, u.is_staff, u.email_verified_at, u.created_at
      INTO session_id, last_seen_at, token_hash, factor_verified_at, second_factor_at,
           user_id, email, display_name, is_staff, email_verified_at, created_at
      FROM user_session s JOIN user_account u ON u.id = s.user_id
     WHERE s.token_hash = ANY (token_hashes)
       AND s.revoked_at IS NULL
       AND s.idle_expires_at > moment
       AND s.absolute_expires_at > moment
       AND u.suspended_at IS NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('app.user_id', user_id::text, true),
            set_config('app.is_staff', CASE WHEN is_staff THEN 'on' ELSE 'off' END, true),
            set_config('app.membership_probe', user_id::text, true);
    -- The membership policy admits the caller's own rows while the probe is set, and only then.
    SELECT array_agg(m.workspace_id), array_agg(m.role::text)
      INTO workspace_ids, roles
      FROM workspace_membership m
     WHERE m.user_id = app_membership_probe();
    PERFORM set_config('app.workspace_ids',
                       coalesce(array_to_string(workspace_ids, ','), ''), true),
            set_config('app.membership_probe', '', true);
    IF second_factor_at IS NULL AND workspace_ids IS NOT NULL THEN
        -- Read through the workspace policy, which now sees exactly the bound memberships.
        SELECT array_agg(w.id) INTO withheld
          FROM workspace w
         WHERE w.id = ANY (workspace_ids) AND w.require_second_factor;
        IF withheld IS NOT NULL THEN
            PERFORM set_config('app.workspace_ids', coalesce(
                (SELECT string_agg(ws::text, ',') FROM unnest(workspace_ids) AS ws
                  WHERE ws <> ALL (withheld)), ''), true);
        END IF;
    END IF;
    RETURN NEXT;
END
$$"""

# A live, unexpired API key of an active creator, its row made visible only by presenting its
# own hash (the api_key policy), and the creator's membership in the key's workspace only: a
# key never sees its creator's other workspaces. No membership, no binding: the caller refuses.
AUTHENTICATE_API_KEY = """
CREATE FUNCTION app_authenticate_api_key(presented bytea, moment timestamptz)
RETURNS TABLE (
    key_id uuid, workspace_id uuid, scopes text[], last_used_at timestamptz,
    user_id uuid, email text, display_name text, is_staff boolean,
    email_verified_at timestamptz, created_at timestamptz,
    workspace_ids uuid[], roles text[]
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
DECLARE
    live boolean;
    key_workspace uuid;
BEGIN
    PERFORM set_config('app.credential_hash', encode(presented, 'hex'), true);
    SELECT k.id, k.workspace_id, k.scopes, k.last_used_at,
           u.id, u.email, u.display_name, u.is_staff, u.email_verified_at, u.created_at
      INTO key_id, workspace_id, scopes, last_used_at,
           user_id, email, display_name, is_staff, email_verified_at, created_at
      FROM api_key k JOIN user_account u ON u.id = k.created_by_id
     WHERE k.key_hash = presented
       AND k.revoked_at IS NULL
       AND (k.expires_at IS NULL OR k.expires_at > moment)
       AND u.suspended_at IS NULL;
    live := FOUND;
    key_workspace := workspace_id;
    PERFORM set_config('app.credential_hash', '', true);
    IF NOT live THEN
        RETURN;
    END IF;
    PERFORM set_config('app.user_id', user_id::text, true),
            set_config('app.is_staff', 'off', true),
            set_config('app.membership_probe', user_id::text, true);
    SELECT array_agg(m.workspace_id), array_agg(m.role::text)
      INTO workspace_ids, roles
      FROM workspace_membership m
     WHERE m.user_id = app_membership_probe() AND m.workspace_id = key_workspace;
    PERFORM set_config('app.workspace_ids',
                       coalesce(array_to_string(workspace_ids, ','), ''), true),
            set_config('app.membership_probe', '', true);
    RETURN NEXT;
END
$$"""


def upgrade() -> None:
    op.execute(AUTHENTICATE_SESSION)
    op.execute(AUTHENTICATE_API_KEY)


def downgrade() -> None:
    op.execute("DROP FUNCTION app_authenticate_api_key(bytea, timestamptz)")
    op.execute("DROP FUNCTION app_authenticate_session(bytea[], timestamptz)")
