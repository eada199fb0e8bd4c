"""Documents in S3-compatible object storage. The only module that imports boto3.

Every put asks for server-side encryption (SSE-S3 `AES256`, or SSE-KMS `aws:kms` with the
configured key); credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, a profile, an instance role), never from the portal's settings.
"""
from __future__ import annotations

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from portal.core.storage_types import (DocumentMissing, StorageUnavailable, StoredFile,
                                         check_key)

_MISSING = ("404", "NoSuchKey", "NotFound")


class S3Store:
    name = "s3"

    def __init__(self, client, bucket: str, prefix: str = "", sse: str = "AES256",
                 kms_key_id: str | None = None):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.sse = sse
        self.kms_key_id = kms_key_id

    def object_key(self, key: str) -> str:
        return f"{self.prefix}{check_key(key)}"

    def put(self, key, data, content_type):
        extra = {"ServerSideEncryption": self.sse}
        if self.sse == "aws:kms" and self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data,
                                   ContentType=content_type, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"put {key}: {exc}") from exc

    def open(self, key):
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise DocumentMissing(key) from exc
            raise StorageUnavailable(f"get {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"get {key}: {exc}") from exc
        return StoredFile(stream=answer["Body"], size=answer["ContentLength"],
                          last_modified=answer.get("LastModified"),
                          etag=(answer.get("ETag") or "").strip('"') or None)

    def get(self, key):
        stored = self.open(key)
        try:
            return stored.stream.read()
        except BotoCoreError as exc:
            raise StorageUnavailable(f"read {key}: {exc}") from exc
        finally:
            stored.stream.close()

    def head(self, key) -> dict | None:
        """The object's metadata (size, encryption, content type), or None if there is none."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise StorageUnavailable(f"head {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"head {key}: {exc}") from exc

    def exists(self, key):
        try:
            return self.head(key) is not None
        except DocumentMissing:
            return False

    def delete(self, key):
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"delete {key}: {exc}") from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def s3_store_from(settings: dict) -> S3Store:
    """An S3Store from the STORAGE_S3_* settings (portal.config)."""
    config = BotoConfig(
        connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": settings.get("STORAGE_S3_ADDRESSING_STYLE") or "auto"})
    client = boto3.session.Session().client(
        "s3", endpoint_url=settings.get("STORAGE_S3_ENDPOINT_URL") or None,
        region_name=settings.get("STORAGE_S3_REGION") or None, config=config)
    return S3Store(client, settings["STORAGE_S3_BUCKET"], settings.get("STORAGE_S3_PREFIX") or "",
                   settings.get("STORAGE_S3_SSE") or "AES256",
                   settings.get("STORAGE_S3_KMS_KEY_ID") or None)
