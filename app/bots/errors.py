from app.core.errors import Unprocessable


class ModelNotAllowed(Unprocessable):
    code = "model_not_allowed"
    title = "This model is not offered"


class LimitExceeded(Unprocessable):
    code = "limit_exceeded"
    title = "A value is above the server's limit"


class SecretInPrompt(Unprocessable):
    code = "secret_in_prompt"
    title = "System prompts must not contain credentials"
