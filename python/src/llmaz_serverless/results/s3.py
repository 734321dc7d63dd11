"""S3-compatible object store (AWS S3, MinIO, Ceph RGW...) through boto3.

boto3 is synchronous, so every call runs in a worker thread. Streams larger
than one part are uploaded as multipart uploads part by part, so a 1 GiB
payload never sits in memory. First-writer-wins result writes use a
conditional PUT (`If-None-Match: *`); services that do not implement it get
a HEAD-then-PUT, which is enough because the job's status commit in Redis
is the single point that decides which attempt completed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from llmaz_serverless.results.objects import ObjectLocationError, ObjectNotFoundError, ObjectStore, Reader
from llmaz_serverless.results.settings import ObjectStoreSettings

# S3's minimum part size (except the last part) is 5 MiB.
PART_SIZE = 8 << 20


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


class S3ObjectStore(ObjectStore):
    kind = "s3"

    def __init__(self, settings: ObjectStoreSettings, client: Any = None) -> None:
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.presign_expiry = int(settings.presign_expiry)
        self.client = client or boto3.client(
            "s3",
            endpoint_url=settings.endpoint_url or None,
            region_name=settings.region,
            config=Config(
                s3={"addressing_style": settings.addressing_style},
                retries={"max_attempts": 5, "mode": "standard"},
                max_pool_connections=32,
            ),
        )
        self._conditional_put = True

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key.lstrip('/')}"

    def uri_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _split(self, uri: str) -> str:
        parsed = urlparse(uri)
        where = f"s3://{self.bucket}/{self.prefix}"
        if parsed.scheme != "s3":
            raise ObjectLocationError(
                f"{uri!r} is not an s3:// URI; this deployment stores payloads under {where}"
            )
        key = parsed.path.lstrip("/")
        if (
            parsed.netloc != self.bucket
            or not key.startswith(self.prefix)
            or key == self.prefix
            or ".." in key
        ):
            raise ObjectLocationError(f"{uri!r} is outside this deployment's payload area {where}")
        return key

    def check_uri(self, uri: str) -> None:
        self._split(uri)

    async def _write_bytes(self, key: str, data: bytes, content_type: str, if_absent: bool) -> bool:
        return await asyncio.to_thread(self._put, self._key(key), data, content_type, if_absent)

    def _put(self, s3_key: str, data: bytes, content_type: str, if_absent: bool) -> bool:
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": s3_key,
            "Body": data,
            "ContentType": content_type,
        }
        if if_absent and self._conditional_put:
            try:
                self.client.put_object(**args, IfNoneMatch="*")
                return True
            except ClientError as err:
                if _code(err) in ("PreconditionFailed", "ConditionalRequestConflict"):
                    return False
                if _code(err) not in ("NotImplemented", "InvalidArgument"):
                    raise
                self._conditional_put = False
        if if_absent and self._head(s3_key) is not None:
            return False
        self.client.put_object(**args)
        return True

    async def _write_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        s3_key = self._key(key)
        buf = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                size += len(chunk)
                buf.extend(chunk)
                while len(buf) >= PART_SIZE:
                    if upload_id is None:
                        upload_id = await asyncio.to_thread(self._start_multipart, s3_key, content_type)
                    part, buf = bytes(buf[:PART_SIZE]), buf[PART_SIZE:]
                    parts.append(
                        await asyncio.to_thread(self._upload_part, s3_key, upload_id, len(parts) + 1, part)
                    )
            if upload_id is None:
                await asyncio.to_thread(self._put, s3_key, bytes(buf), content_type, False)
            else:
                if buf:
                    parts.append(
                        await asyncio.to_thread(
                            self._upload_part, s3_key, upload_id, len(parts) + 1, bytes(buf)
                        )
                    )
                await asyncio.to_thread(
                    self.client.complete_multipart_upload,
                    Bucket=self.bucket,
                    Key=s3_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
                upload_id = None
        finally:
            if upload_id is not None:  # failed or too large: don't leave billed parts behind
                await asyncio.to_thread(
                    self.client.abort_multipart_upload, Bucket=self.bucket, Key=s3_key, UploadId=upload_id
                )
        return size

    def _start_multipart(self, s3_key: str, content_type: str) -> str:
        reply = self.client.create_multipart_upload(Bucket=self.bucket, Key=s3_key, ContentType=content_type)
        return str(reply["UploadId"])

    def _upload_part(self, s3_key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        reply = self.client.upload_part(
            Bucket=self.bucket, Key=s3_key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"ETag": reply["ETag"], "PartNumber": number}

    def _head(self, s3_key: str) -> int | None:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=s3_key)["ContentLength"])
        except ClientError as err:
            if _code(err) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    async def size(self, uri: str) -> int | None:
        return await asyncio.to_thread(self._head, self._split(uri))

    async def _open(self, uri: str) -> Reader:
        s3_key = self._split(uri)
        try:
            reply = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=s3_key)
        except ClientError as err:
            if _code(err) in ("404", "NoSuchKey", "NotFound"):
                raise ObjectNotFoundError(uri) from err
            raise
        body: Reader = reply["Body"]
        return body

    async def delete(self, uri: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._split(uri))

    async def public_url(self, uri: str) -> str | None:
        return await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._split(uri)},
            ExpiresIn=self.presign_expiry,
        )
