"""What travels through the queue: one async inference job.

A job names its model and API and carries either the OpenAI request body
inline (small requests) or the location of that body in the object store
(`input_location`), never both. Entries stay small so the queue holds
references, not payloads.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from llmaz_serverless.openai_paths import GENERATION_APIS

# The generation APIs of openai_paths, spelled out for the type checker.
Api = Literal["chat", "completions"]


def new_job_id() -> str:
    # Time-ordered prefix keeps ids roughly sortable in listings and logs.
    return f"async-{time.time_ns() // 1_000_000:x}-{uuid.uuid4().hex[:16]}"


@dataclass
class Job:
    id: str
    model: str
    api: Api
    tenant: str
    created_at: float
    # The OpenAI request body, already validated, as JSON text (None when by reference).
    body: str | None = None
    # Object-store URI of the body ("s3://bucket/key", "file:///root/key").
    input_location: str | None = None
    webhook: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.body is None) == (self.input_location is None):
            raise ValueError("a job carries exactly one of body and input_location")
        if self.api not in GENERATION_APIS:
            raise ValueError(f"unknown api {self.api!r}: expected one of {sorted(GENERATION_APIS)}")

    def encode(self) -> bytes:
        data = {k: v for k, v in asdict(self).items() if v not in (None, {})}
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes | str) -> Job:
        """Parse a queue entry; raises InvalidJobError for anything not a job."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidJobError(f"entry is not JSON: {err}") from err
        if not isinstance(data, dict):
            raise InvalidJobError(f"entry is a JSON {type(data).__name__}, expected an object")
        missing = [k for k in ("id", "model", "api", "tenant", "created_at") if k not in data]
        if missing:
            raise InvalidJobError(f"entry lacks {', '.join(missing)}")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidJobError(f"entry has unknown fields {unknown}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as err:
            raise InvalidJobError(str(err)) from err


class InvalidJobError(ValueError):
    """A queue entry that can never be processed (dead-lettered at once)."""


def job_id_of(raw: bytes | str) -> str | None:
    """Best-effort id of a malformed entry, so its dead letter can still be traced."""
    try:
        data = json.loads(raw)
        return str(data["id"]) if isinstance(data, dict) and "id" in data else None
    except (ValueError, UnicodeDecodeError):
        return None
