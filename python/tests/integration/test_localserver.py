import redis

from llmaz_serverless.launcher import RedisServer
from llmaz_serverless_testing.servers import PrometheusServer


def test_redis_server_starts_answers_and_cleans_up():
    with RedisServer() as server:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        data_dir = server.dir
    assert not data_dir.exists()
    assert server.proc is not None and server.proc.poll() is not None


def test_prometheus_server_scrapes_itself():
    import json
    import time
    import urllib.request

    server = PrometheusServer()
    server.targets = [f"127.0.0.1:{server.port}"]
    with server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{server.url}/api/v1/query?query=up") as resp:
                result = json.load(resp)["data"]["result"]
            if result:
                break
            time.sleep(0.5)
        assert result and result[0]["value"][1] == "1"
