"""Event rules: CloudEvents in, models pre-warmed and async jobs submitted.

intake (HTTP -> events) -> rules/patterns (which rules match) -> dispatch
(plan and run the actions: prewarm windows in Redis, submit jobs on the async
path) -> metrics and logs. The gateway serves it (gateway/events_api.py);
`llmaz-serverless events test` runs the same matching and planning offline.
"""
