import io
import json

from aiohttp.test_utils import TestClient, TestServer

from llmaz_serverless.notify.receiver import build_receiver
from llmaz_serverless.notify.signing import SIGNATURE_HEADER, sign


async def test_receiver_accepts_a_signed_delivery_and_lists_it():
    out = io.StringIO()
    async with TestClient(TestServer(build_receiver(b"s3cret", out=out))) as client:
        await _accepts(client, out)


async def _accepts(client: TestClient, out: io.StringIO) -> None:
    body = json.dumps({"specversion": "1.0", "type": "io.llmaz-serverless.job.succeeded"}).encode()
    response = await client.post("/hook", data=body, headers={SIGNATURE_HEADER: sign(b"s3cret", body)})
    assert response.status == 200
    listed = await (await client.get("/received")).json()
    assert listed == [
        {"signatureOk": True, "event": json.loads(body), "contentType": "application/octet-stream"}
    ]
    assert json.loads(out.getvalue())["signatureOk"] is True


async def test_receiver_refuses_a_delivery_signed_with_another_secret():
    async with TestClient(TestServer(build_receiver(b"s3cret", out=None))) as client:
        await _refuses(client)


async def _refuses(client: TestClient) -> None:
    body = b'{"specversion": "1.0"}'
    response = await client.post("/hook", data=body, headers={SIGNATURE_HEADER: sign(b"other", body)})
    assert response.status == 401
    assert (await (await client.get("/received")).json())[0]["signatureOk"] is False
