"""S3 object storage (SeaweedFS locally, any S3 in production) through boto3."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.settings import Settings


class ObjectStorage:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
            region_name=settings.s3_region,
            config=Config(
                connect_timeout=3,
                read_timeout=10,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"},
                # Presigned links signed as every request is (V4); V2 links are deprecated.
                signature_version="s3v4",
            ),
        )

    def ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return bytes(body.read())

    def presign(self, key: str, seconds: int) -> str:
        """A GET URL for one object that works for `seconds` without our credentials (so a
        link copied out of a page stops working soon after)."""
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )
        return url

    def check(self) -> None:
        self._client.head_bucket(Bucket=self.bucket)

    async def acheck(self) -> None:
        await asyncio.to_thread(self.check)


def main() -> None:
    """`python -m core.storage`: create the bucket if missing (compose's one-shot job)."""
    from core.settings import get_settings

    ObjectStorage(get_settings()).ensure_bucket()


if __name__ == "__main__":
    main()
