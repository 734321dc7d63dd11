"""The short `make loadtest` profile: burst from zero, step up, ramp down, idle to zero, burst again.

Shape, defaults and what it sends: llmaz_serverless/loadtest/catalog.py ("00_mix").
Run it with `llmaz-serverless loadtest --scenario 00_mix --local` (or --target URL).
"""

from llmaz_serverless.loadtest.users import OpenAIUser, scenario_shape

MixShape = scenario_shape("00_mix")

__all__ = ["MixShape", "OpenAIUser"]
