from enum import StrEnum


class ToolName(StrEnum):
    CREATE_NOTE = "create_note"
    HTTP_FETCH = "http_fetch"
    SEARCH_CONVERSATIONS = "search_conversations"
    SEARCH_FILES = "search_files"

    def __str__(self) -> str:
        return str(self.value)
