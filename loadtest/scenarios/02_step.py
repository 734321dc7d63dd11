"""Step: load rising in steps, to watch 1 -> N scale-up and its lag.

Shape, defaults and what it sends: llmaz_serverless/loadtest/catalog.py ("02_step").
Run it with `llmaz-serverless loadtest --scenario 02_step --local` (or --target URL).
"""

from llmaz_serverless.loadtest.users import OpenAIUser, scenario_shape

StepShape = scenario_shape("02_step")

__all__ = ["OpenAIUser", "StepShape"]
