from enum import StrEnum


class EventType(StrEnum):
    CONVERSATION_CREATED = "conversation.created"
    FILE_SCANNED = "file.scanned"
    MEMBER_ADDED = "member.added"
    MESSAGE_CREATED = "message.created"
    WEBHOOK_TEST = "webhook.test"

    def __str__(self) -> str:
        return str(self.value)
