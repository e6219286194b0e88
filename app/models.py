"""Imports every domain's models once, for Alembic and mapper configuration."""

from app.audit.models import AuditEvent
from app.auth.mfa.models import LoginChallenge, RecoveryCode, TotpFactor
from app.auth.models import OneTimeToken
from app.auth.passkeys.models import Passkey, PasskeyCeremony
from app.bots.models import Bot
from app.conversations.models import Conversation, Message
from app.core.models import Base
from app.email.models import OutboxEmail
from app.files.models import File, FileScanJob, MessageFile  # files
from app.identity.models import ApiKey, User, UserSession, Workspace, WorkspaceMembership
from app.invitations.models import Invitation
from app.tools.models import Note, ToolCall
from app.usage.models import UsageReservation, WorkspaceUsage
from app.webhooks.inbound.models import InboundWebhookEvent  # webhooks
from app.webhooks.outbound.models import (  # webhooks
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
    WebhookQueue,
)

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Bot",
    "Conversation",
    "File",
    "FileScanJob",
    "Invitation",
    "Message",
    "MessageFile",
    "Note",
    "OneTimeToken",
    "OutboxEmail",
    "ToolCall",
    "UsageReservation",
    "User",
    "UserSession",
    "Workspace",
    "WorkspaceMembership",
    "WorkspaceUsage",
    # --- Webhooks ---
    "InboundWebhookEvent",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookEndpoint",
    "WebhookQueue",
    # --- Second factors ---
    "LoginChallenge",
    "RecoveryCode",
    "TotpFactor",
    "Passkey",
    "PasskeyCeremony",
]
