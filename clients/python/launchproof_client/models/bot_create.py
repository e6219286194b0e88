from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.bot_create_model import BotCreateModel
from ..models.tool_name import ToolName
from ..types import UNSET, Unset

T = TypeVar("T", bound="BotCreate")


@_attrs_define
class BotCreate:
    """
    Attributes:
        model (BotCreateModel):
        name (str):
        system_prompt (str):
        allowed_domains (list[str] | Unset):
        max_output_tokens (int | Unset):  Default: 512.
        temperature (float | Unset):  Default: 0.7.
        tools (list[ToolName] | Unset):
    """

    model: BotCreateModel
    name: str
    system_prompt: str
    allowed_domains: list[str] | Unset = UNSET
    max_output_tokens: int | Unset = 512
    temperature: float | Unset = 0.7
    tools: list[ToolName] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        model = self.model.value

        name = self.name

        system_prompt = self.system_prompt

        allowed_domains: list[str] | Unset = UNSET
        if not isinstance(self.allowed_domains, Unset):
            allowed_domains = self.allowed_domains

        max_output_tokens = self.max_output_tokens

        temperature = self.temperature

        tools: list[str] | Unset = UNSET
        if not isinstance(self.tools, Unset):
            tools = []
            for tools_item_data in self.tools:
                tools_item = tools_item_data.value
                tools.append(tools_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "model": model,
                "name": name,
                "system_prompt": system_prompt,
            }
        )
        if allowed_domains is not UNSET:
            field_dict["allowed_domains"] = allowed_domains
        if max_output_tokens is not UNSET:
            field_dict["max_output_tokens"] = max_output_tokens
        if temperature is not UNSET:
            field_dict["temperature"] = temperature
        if tools is not UNSET:
            field_dict["tools"] = tools

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = BotCreateModel(d.pop("model"))

        name = d.pop("name")

        system_prompt = d.pop("system_prompt")

        allowed_domains = cast(list[str], d.pop("allowed_domains", UNSET))

        max_output_tokens = d.pop("max_output_tokens", UNSET)

        temperature = d.pop("temperature", UNSET)

        _tools = d.pop("tools", UNSET)
        tools: list[ToolName] | Unset = UNSET
        if _tools is not UNSET:
            tools = []
            for tools_item_data in _tools:
                tools_item = ToolName(tools_item_data)

                tools.append(tools_item)

        bot_create = cls(
            model=model,
            name=name,
            system_prompt=system_prompt,
            allowed_domains=allowed_domains,
            max_output_tokens=max_output_tokens,
            temperature=temperature,
            tools=tools,
        )

        return bot_create
