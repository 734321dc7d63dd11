"""Where results and by-reference payloads are stored: the `results` and `objectStore` keys of `queue:`.

Owned by the results package because its stores read them; the gateway (which
reads results back and offloads large payloads) and the worker (which writes
results) get them through the queue contract (queue/settings.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llmaz_serverless.config import CamelModel, Duration


class ObjectStoreSettings(CamelModel):
    # Where payloads sent by reference and large results live: "none" (no
    # by-reference payloads, all results in Redis), "filesystem" (a PVC mounted at
    # `root` in the gateway and the worker) or "s3" (any S3-compatible service).
    type: Literal["none", "filesystem", "s3"] = "none"
    # filesystem: directory (a mounted PVC) shared by the gateway and the workers.
    root: str = "/var/lib/llmaz-serverless/objects"
    # s3: bucket name (must exist; the chart does not create it).
    bucket: str = ""
    # s3: key prefix for every object this release writes.
    prefix: str = "llmaz-serverless/"
    # s3: endpoint of an S3-compatible service (MinIO, Ceph...); empty means AWS.
    # Credentials come from the usual AWS environment (a Secret mounted as env).
    endpoint_url: str = ""
    # s3: region for request signing.
    region: str = "us-east-1"
    # s3: "path" for most S3-compatible services, "virtual" or "auto" for AWS.
    addressing_style: Literal["auto", "path", "virtual"] = "path"
    # s3: lifetime of the presigned GET URL returned as a result's location.
    presign_expiry: Duration = 3600.0


class ResultSettings(CamelModel):
    # Where results go: "redis" (small results, the default) or "objectStore".
    store: Literal["redis", "objectStore"] = "redis"
    # How long results and job status are kept in Redis. Object-store results are
    # not expired by us: use a bucket lifecycle rule or clean the PVC.
    ttl: Duration = 86400.0
    # A result larger than this goes to the object store even when `store` is
    # "redis" (fails the job with a clear error if no object store is configured).
    inline_max_bytes: int = Field(default=1_048_576, ge=1)
