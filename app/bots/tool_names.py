from enum import StrEnum


class ToolName(StrEnum):
    """Every tool the registry knows. A bot's allowlist is a subset of these."""

    SEARCH_CONVERSATIONS = "search_conversations"
    CREATE_NOTE = "create_note"
    HTTP_FETCH = "http_fetch"
    SEARCH_FILES = "search_files"  # files
