from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class InboundAccepted(BaseModel):
    status: Literal["accepted", "duplicate"]
