"""Diurnal: two compressed days (sinusoid); the night lets the model return to zero.

Shape, defaults and what it sends: llmaz_serverless/loadtest/catalog.py ("04_diurnal").
Run it with `llmaz-serverless loadtest --scenario 04_diurnal --local` (or --target URL).
"""

from llmaz_serverless.loadtest.users import OpenAIUser, scenario_shape

DiurnalShape = scenario_shape("04_diurnal")

__all__ = ["DiurnalShape", "OpenAIUser"]
