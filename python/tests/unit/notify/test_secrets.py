from __future__ import annotations

from pathlib import Path

import pytest

from llmaz_serverless.notify.secrets import MissingSecretError, TenantSecrets


def test_secret_is_read_fresh_when_the_mounted_file_is_rotated(tmp_path: Path) -> None:
    (tmp_path / "acme").write_text("one\n")
    secrets = TenantSecrets(tmp_path)
    assert secrets.get("acme") == b"one"
    (tmp_path / "acme").write_text("two")
    assert secrets.get("acme") == b"two"


def test_missing_secret_names_the_file_and_the_fix_when_tenant_has_none(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretError, match="add a key named 'acme'"):
        TenantSecrets(tmp_path).get("acme")


@pytest.mark.parametrize("tenant", ["../etc/passwd", "", ".hidden", "a/b"])
def test_tenant_cannot_escape_the_secrets_directory_when_name_has_path_parts(
    tmp_path: Path, tenant: str
) -> None:
    with pytest.raises(MissingSecretError):
        TenantSecrets(tmp_path).get(tenant)
