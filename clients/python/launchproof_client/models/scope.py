from enum import StrEnum


class Scope(StrEnum):
    BOTSREAD = "bots:read"
    BOTSWRITE = "bots:write"
    CONVERSATIONSREAD = "conversations:read"
    CONVERSATIONSWRITE = "conversations:write"
    FILESREAD = "files:read"
    FILESWRITE = "files:write"
    WEBHOOKSMANAGE = "webhooks:manage"
    WORKSPACEREAD = "workspace:read"

    def __str__(self) -> str:
        return str(self.value)
