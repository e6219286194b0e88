from enum import StrEnum


class EndpointCreateEventTypesItem(StrEnum):
    CONVERSATION_CREATED = "conversation.created"
    FILE_SCANNED = "file.scanned"
    MEMBER_ADDED = "member.added"
    MESSAGE_CREATED = "message.created"

    def __str__(self) -> str:
        return str(self.value)
