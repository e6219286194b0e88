"""Rate-limit budgets and the step-up age (docs/rate-limits.md, docs/mfa.md), mixed into the one
``Settings`` class.

Split from ``app/core/config.py`` for its size budget (CONVENTIONS rule 3), like
``config_edge.py``: one ``Settings`` object, one environment. Budgets use the ``limits``
notation ("5/minute", "20/hour;100/day"); a malformed one refuses to start.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from app.core.config_edge import _budget

Budget = Annotated[str, AfterValidator(_budget)]


class LimitSettings(BaseModel):
    # Sends cost model tokens: stricter than anything else (per user).
    rate_limit_chat_send: Budget = "20/minute"
    rate_limit_login_ip: Budget = "20/minute;200/day"  # per client IP
    rate_limit_login_account: Budget = "5/minute;30/hour"  # per normalised e-mail
    rate_limit_signup_ip: Budget = "5/hour"
    rate_limit_password_reset_ip: Budget = "5/hour"  # noqa: S105 - a budget, not a secret
    rate_limit_password_reset_account: Budget = "3/hour"  # noqa: S105 - a budget
    rate_limit_verify_email_ip: Budget = "10/hour"
    rate_limit_verify_email_account: Budget = "3/hour"
    rate_limit_upload: Budget = "30/hour"  # per user (the upload route defines its own use)
    rate_limit_webhook: Budget = "120/minute"  # per webhook source and client IP
    rate_limit_api_key_create: Budget = "10/hour"  # per user
    rate_limit_invitation: Budget = "20/hour"  # per user
    rate_limit_webhook_replay: Budget = "60/hour"  # per user: redeliver, recover, enable
    rate_limit_admin: Budget = "120/minute"  # per staff user
    rate_limit_read: Budget = "600/minute"  # per principal, GET routes; fails open
    # Second-factor attempts (login step 2 and step-up): per client IP and per account.
    rate_limit_second_factor_ip: Budget = "20/minute;200/day"
    rate_limit_second_factor_account: Budget = "5/minute;30/hour"
    # A factor used longer ago than this no longer unlocks step-up routes (docs/mfa.md).
    step_up_max_age_seconds: int = Field(default=600, ge=30, le=24 * 3600)
