"""Async: a burst of jobs submitted to the async API, each polled until done (end-to-end latency).

Shape, defaults and what it sends: llmaz_serverless/loadtest/catalog.py ("05_async").
Run it with `llmaz-serverless loadtest --scenario 05_async --local` (or --target URL).
"""

from llmaz_serverless.loadtest.users import OpenAIUser, scenario_shape

AsyncShape = scenario_shape("05_async")

__all__ = ["AsyncShape", "OpenAIUser"]
