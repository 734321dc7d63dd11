"""The gateway: one OpenAI-compatible front door for every serverless model.

aiohttp server with one shared aiohttp ClientSession (measured fastest here,
see UPSTREAM.md): routes by the body's `model` to the model's upstream (the
KEDA HTTP interceptor in a cluster), waits out cold starts, caches
deterministic answers in Redis. `app.build_app` is the entry point;
`context.GatewayContext` is what route modules receive.
"""
