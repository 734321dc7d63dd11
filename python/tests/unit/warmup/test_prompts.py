from llmaz_serverless.warmup.prompts import build_prompts, prompt_text


def test_prompt_has_one_word_per_token_asked_when_generated():
    for tokens in (1, 16, 512, 2048):
        assert len(prompt_text(tokens, seed=7).split()) == tokens


def test_same_seed_gives_same_prompt_and_other_seed_another():
    assert prompt_text(64, seed=1) == prompt_text(64, seed=1)
    assert prompt_text(64, seed=1) != prompt_text(64, seed=2)


def test_prompts_of_one_warmup_differ_so_a_prefix_cache_cannot_shortcut_them():
    prompts = build_prompts([(512, 16), (512, 64)], seed=3)
    assert [p.target_tokens for p in prompts] == [512, 512]
    assert [p.max_tokens for p in prompts] == [16, 64]
    assert prompts[0].text.split()[:8] != prompts[1].text.split()[:8]
