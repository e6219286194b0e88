from enum import StrEnum


class BotCreateModel(StrEnum):
    GPT_4O_MINI = "gpt-4o-mini"
    GPT_4_1_MINI = "gpt-4.1-mini"
    STUB_LARGE = "stub-large"
    STUB_SMALL = "stub-small"

    def __str__(self) -> str:
        return str(self.value)
