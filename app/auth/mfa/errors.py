"""Problem codes of the second-factor flows (docs/mfa.md lists them for clients)."""

from app.core.errors import Conflict, Forbidden, Unauthorized


class InvalidSecondFactor(Forbidden):
    code = "invalid_second_factor"
    title = "The code is wrong, expired or already used"


class LoginChallengeInvalid(Unauthorized):
    code = "login_challenge_invalid"
    title = "Sign in again: this sign-in attempt is over"


class TotpAlreadyEnabled(Conflict):
    code = "totp_already_enabled"
    title = "An authenticator app is already enrolled"


class NoPendingTotp(Conflict):
    code = "no_pending_totp"
    title = "Start the enrolment first"


class InvalidEnrolmentCode(Forbidden):
    code = "invalid_code"
    title = "The code does not match: check the authenticator app's clock and try again"


class NoSecondFactor(Conflict):
    code = "no_second_factor"
    title = "This account has no second factor"
