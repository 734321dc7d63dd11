"""The one table of OpenAI paths, and that the modules serving or calling them read it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmaz_serverless import openai_paths as op

SRC = Path(op.__file__).parent


def test_gateway_proxies_generation_and_embeddings_and_caches_only_generation() -> None:
    assert op.PROXIED_PATHS == ("/v1/completions", "/v1/chat/completions", "/v1/embeddings")
    assert sorted(op.CACHEABLE_PATHS) == ["/v1/chat/completions", "/v1/completions"]
    assert op.GENERATION_APIS == ("completions", "chat")


def test_async_path_sits_under_the_async_prefix() -> None:
    assert op.CHAT.async_path == "/v1/async/chat/completions"
    assert op.COMPLETIONS.async_path == "/v1/async/completions"


def test_endpoint_is_found_under_a_path_prefix_and_chat_is_not_taken_for_completions() -> None:
    assert op.endpoint_of("/llama/v1/chat/completions") is op.CHAT
    assert op.endpoint_of("/v1/completions") is op.COMPLETIONS
    assert op.endpoint_of("/v1/async/chat/completions") is None
    assert op.endpoint_of("/health") is None


def test_unknown_generation_api_names_field_value_and_choices() -> None:
    assert op.generation("chat") is op.CHAT
    with pytest.raises(
        ValueError, match=r"warmup api: 'embeddings' is not a text-generation API; use one of \["
    ):
        op.generation("embeddings", "warmup api")


def test_no_module_spells_an_openai_path_in_code_outside_the_table() -> None:
    # A string literal holding an OpenAI path (docstrings and comments aside) means a second table.
    literal = re.compile(r"""["'](?:/v1)?/(?:chat/completions|completions|embeddings|models)["']""")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "openai_paths.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if literal.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []
