"""Load tests for OpenAI-compatible endpoints, with serverless-aware measurements.

Pieces, one module each:

- `profile`: what a run sends (model, API, streaming, length distributions, shape).
- `distributions`, `prompts`: prompt/output lengths and request bodies.
- `shapes`: traffic over time (steady, step, burst after idle, diurnal, mix).
- `client`: one request, timed (TTFB, TTFT, every inter-token gap).
- `records`: the raw per-request CSV every report is computed from.
- `users`: the locust user classes (imported only inside the locust process).
- `replicas`: replica samplers (Prometheus, Kubernetes scale subresource, a
  local state URL) writing the replicas CSV.
- `coldstart`: which requests waited for a scale-up.
- `scaler`: a LOCAL SIMULATION of KEDA scale-to-zero for runs without a
  cluster (it starts and stops emulator processes; it is not KEDA).
- `localstack`, `runner`: the local stack and the bounded, headless locust run.
"""
