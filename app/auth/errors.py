from app.core.errors import Forbidden, Unauthorized, Unprocessable


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    title = "Invalid e-mail or password"


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    title = "Verify your e-mail address first"


class InvalidToken(Unprocessable):
    code = "invalid_token"
    title = "This link is invalid or has expired"


class WeakPassword(Unprocessable):
    code = "weak_password"
    title = "Password refused"


class WrongCurrentPassword(Forbidden):
    code = "wrong_current_password"
    title = "The current password is wrong"
