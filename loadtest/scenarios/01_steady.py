"""Steady: constant load, the warm baseline.

Shape, defaults and what it sends: llmaz_serverless/loadtest/catalog.py ("01_steady").
Run it with `llmaz-serverless loadtest --scenario 01_steady --local` (or --target URL).
"""

from llmaz_serverless.loadtest.users import OpenAIUser, scenario_shape

SteadyShape = scenario_shape("01_steady")

__all__ = ["OpenAIUser", "SteadyShape"]
