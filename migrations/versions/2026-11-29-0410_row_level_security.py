"""Row-level security on every tenant table, and least-privilege grants for the app role.

The app role (named by ``app_role`` in the migration context) gets DML on tables and nothing
else: it owns nothing, so FORCE'd policies bind it; it cannot UPDATE or DELETE the audit log, and
it cannot touch ``alembic_version``. Policies read the transaction-local settings that
``app.identity.repository.PrincipalContextRepository`` writes:

* ``app.workspace_ids``: comma-separated workspace ids the principal may reach;
* ``app.user_id``: the acting user (the session's user or the API key's creator), for policies
  that make rows private to one user;
* ``app.membership_probe``: the same id, set only while authentication reads the caller's own
  memberships and cleared by that very statement, so an API key never sees its creator's
  memberships in other workspaces;
* ``app.is_staff``: ``on`` for platform staff sessions (audit log reads);
* ``app.credential_hash``: hex of a presented credential's keyed hash (API key, invitation), so a
  holder can find exactly that row and nothing else.

Unset settings read as empty, which matches nothing: a query without context sees zero rows.

Revision ID: 0002_row_level_security
Revises: 0001_accounts
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0002_row_level_security"
down_revision: str | None = "0001_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = [
    """
CREATE FUNCTION app_workspace_ids() RETURNS uuid[] LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(
    string_to_array(nullif(current_setting('app.workspace_ids', true), ''), ',')::uuid[],
    '{}'::uuid[])
$$""",
    """CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$""",
    """CREATE FUNCTION app_membership_probe() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.membership_probe', true), '')::uuid
$$""",
    """CREATE FUNCTION app_is_staff() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(current_setting('app.is_staff', true) = 'on', false)
$$""",
    """CREATE FUNCTION app_credential_hash() RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT decode(nullif(current_setting('app.credential_hash', true), ''), 'hex')
$$""",
]

# (table, tenant column, extra SELECT-only condition or None)
TENANT_TABLES: list[tuple[str, str, str | None]] = [
    ("workspace", "id", None),
    ("workspace_membership", "workspace_id", "user_id = app_membership_probe()"),
    ("invitation", "workspace_id", "token_hash = app_credential_hash()"),
    ("api_key", "workspace_id", "key_hash = app_credential_hash()"),
]


def _app_role() -> str:
    role = context.get_context().opts.get("app_role")
    if not role:
        raise RuntimeError("the migration context has no app_role")
    return str(role)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upgrade() -> None:
    app_role = _ident(_app_role())
    for statement in FUNCTIONS:
        op.execute(statement)
    for table, column, select_extra in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING ({column} = ANY (app_workspace_ids())) "
            f"WITH CHECK ({column} = ANY (app_workspace_ids()))"
        )
        if select_extra:
            op.execute(
                f"CREATE POLICY credential_or_self ON {table} FOR SELECT USING ({select_extra})"
            )

    op.execute("ALTER TABLE audit_event ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE audit_event FORCE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY audit_append ON audit_event FOR INSERT WITH CHECK (true)")
    op.execute("CREATE POLICY audit_staff_read ON audit_event FOR SELECT USING (app_is_staff())")

    op.execute(f"GRANT USAGE ON SCHEMA public TO {app_role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app_role}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {app_role}")
    op.execute(f"REVOKE UPDATE, DELETE ON audit_event FROM {app_role}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app_role}"
    )


def downgrade() -> None:
    app_role = _ident(_app_role())
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {app_role}"
    )
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app_role}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {app_role}")
    op.execute("DROP POLICY audit_staff_read ON audit_event")
    op.execute("DROP POLICY audit_append ON audit_event")
    op.execute("ALTER TABLE audit_event NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE audit_event DISABLE ROW LEVEL SECURITY")
    for table, _column, select_extra in TENANT_TABLES:
        if select_extra:
            op.execute(f"DROP POLICY credential_or_self ON {table}")
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for function in (
        "app_credential_hash",
        "app_is_staff",
        "app_membership_probe",
        "app_user_id",
        "app_workspace_ids",
    ):
        op.execute(f"DROP FUNCTION {function}()")
