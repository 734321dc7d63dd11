"""`llmaz-serverless plan`: simulate the scaling decision loop of a model on a trace, price it, and
search idle settings (cooldown, min replicas, pre-warm windows) for the cheapest that meets targets.

The rules the simulator follows, and where KEDA, the HTTP add-on and the HPA define each one, are
in docs/design/planner.md.
"""
