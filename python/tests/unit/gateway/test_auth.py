import pytest

from llmaz_serverless.gateway.auth import ApiKeyAuth, parse_keys
from llmaz_serverless.gateway.settings import AuthSettings


def test_parse_keys_skips_comments_and_blank_lines():
    assert parse_keys("# team a\nkey-1\n\n  key-2  # rotated in May\n") == ["key-1", "key-2"]


def test_enabled_without_any_key_is_an_error_naming_both_sources(tmp_path):
    empty = tmp_path / "keys"
    empty.write_text("# none yet\n")
    with pytest.raises(ValueError, match=r"keysFile.*LLMAZ_SERVERLESS_API_KEYS"):
        ApiKeyAuth(AuthSettings(enabled=True, keys_file=str(empty)), environ={})


def test_unreadable_keys_file_is_an_error_naming_the_path(tmp_path):
    with pytest.raises(ValueError, match=r"keysFile: cannot read .*missing"):
        ApiKeyAuth(AuthSettings(enabled=True, keys_file=str(tmp_path / "missing")), environ={})


def test_disabled_auth_needs_no_keys():
    assert not ApiKeyAuth(AuthSettings(), environ={}).enabled
