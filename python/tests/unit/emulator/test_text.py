import random

from llmaz_serverless.emulator.text import (
    generate_tokens,
    is_greedy,
    make_rng,
    prompt_tokens_of_chat,
    prompt_tokens_of_completion,
)


def test_prompt_tokens_count_words_strings_and_token_ids_when_completion():
    assert prompt_tokens_of_completion({"prompt": "one two  three"}) == 3
    assert prompt_tokens_of_completion({"prompt": ["a b", "c"]}) == 3
    assert prompt_tokens_of_completion({"prompt": [1, 2, 3, 4]}) == 4
    assert prompt_tokens_of_completion({"prompt": [[1, 2], [3]]}) == 3


def test_prompt_tokens_count_text_parts_and_role_markers_when_chat():
    body = {
        "messages": [
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "hello there world"}, {"type": "image_url"}],
            },
        ]
    }
    assert prompt_tokens_of_chat(body) == 2 + 1 + 3 + 1


def test_greedy_only_when_temperature_is_explicitly_zero():
    assert is_greedy({"temperature": 0})
    assert is_greedy({"temperature": 0.0})
    assert not is_greedy({})
    assert not is_greedy({"temperature": 0.7})
    assert not is_greedy({"temperature": False})


def test_same_text_when_greedy_and_same_prompt():
    server = random.Random(1)
    a = generate_tokens(make_rng("m", {"temperature": 0}, "hi", server), 20)
    b = generate_tokens(make_rng("m", {"temperature": 0}, "hi", server), 20)
    c = generate_tokens(make_rng("m", {"temperature": 0}, "hello", server), 20)
    assert a == b
    assert a != c
    assert all(t.startswith(" ") for t in a)


def test_different_text_when_sampling_without_seed():
    server = random.Random(1)
    a = generate_tokens(make_rng("m", {"temperature": 1}, "hi", server), 20)
    b = generate_tokens(make_rng("m", {"temperature": 1}, "hi", server), 20)
    assert a != b


def test_same_text_when_sampling_with_request_seed():
    server = random.Random(1)
    a = generate_tokens(make_rng("m", {"temperature": 1, "seed": 7}, "hi", server), 20)
    b = generate_tokens(make_rng("m", {"temperature": 1, "seed": 7}, "hi", server), 20)
    assert a == b
