"""The gateway: one OpenAI-compatible front door for every serverless model.

aiohttp server; upstream requests go over the gateway's own keep-alive
HTTP/1.1 pool (`upstream.py`), which writes each streamed piece to the
client from the upstream socket's read callback (docs/benchmarks/gateway.md
has the measurements behind that choice). Routes by the body's `model` to the
model's upstream (the KEDA HTTP interceptor in a cluster), waits out cold
starts, caches deterministic answers in Redis. `app.build_app` is the entry point;
`context.GatewayContext` is what route modules receive.
"""
