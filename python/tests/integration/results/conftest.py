from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from llmaz_serverless_testing.worker import MOTO_ENV, MotoS3Server


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3Server]:
    """moto's S3 emulator on loopback (an emulator: no real S3 is reachable here)."""
    with MotoS3Server() as server:
        yield server


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in MOTO_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def bucket(moto_s3: MotoS3Server, s3_env: None) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_settings(moto_s3: MotoS3Server, bucket: str) -> dict[str, Any]:
    return {"type": "s3", "bucket": bucket, "prefix": "rel/", "endpointUrl": moto_s3.url}
