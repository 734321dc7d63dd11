"""Burst after idle: nothing, then everyone at once, twice; each burst meets zero replicas (0 -> 1).

The idle gap must be longer than the scaler's idle period: against a cluster,
longer than the ScaledObject's cooldownPeriod (pass --shape-param idle=360 for
KEDA's default of 300 s).

Shape, defaults and what it sends: llmaz_serverless/loadtest/catalog.py ("03_burst_after_idle").
Run it with `llmaz-serverless loadtest --scenario 03_burst_after_idle --local` (or --target URL).
"""

from llmaz_serverless.loadtest.users import OpenAIUser, scenario_shape

BurstAfterIdleShape = scenario_shape("03_burst_after_idle")

__all__ = ["BurstAfterIdleShape", "OpenAIUser"]
