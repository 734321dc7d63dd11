"""Per-tenant webhook secrets from a mounted Kubernetes Secret.

The Secret is mounted as a directory: one file per tenant, named after the
tenant, holding that tenant's secret. Files are read on each use so a rotated
Secret (the kubelet swaps the files in place) takes effect without a restart.
"""

from __future__ import annotations

import re
from pathlib import Path

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")


class MissingSecretError(LookupError):
    pass


class TenantSecrets:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def get(self, tenant: str) -> bytes:
        if not _TENANT.match(tenant):
            raise MissingSecretError(f"tenant name {tenant!r} cannot name a secret file")
        path = self.directory / tenant
        try:
            secret = path.read_bytes().strip()
        except OSError as err:
            raise MissingSecretError(
                f"no webhook secret for tenant {tenant!r}: expected the file {path} "
                f"(add a key named {tenant!r} to the webhook Secret mounted at {self.directory})"
            ) from err
        if not secret:
            raise MissingSecretError(f"webhook secret file {path} for tenant {tenant!r} is empty")
        return secret
