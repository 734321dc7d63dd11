"""Cold-start-aware warmup: readiness gating of model pods, cold-start timeline, install hook.

Modules, one concern each:

- `settings`: the `warmup:` section of runtime.yaml.
- `prompts`, `streaming`, `client`: the warmup HTTP client.
- `pods`, `kube`: reading pods, the few API writes (behind `KubeApi`).
- `gate`: warm a replica at its pod, then open its readiness gate.
- `timeline`, `firsttoken`, `metrics`: cold-start phases as Events and histograms.
- `admission`, `replicas`: kopf handlers (mutating webhook, pod events).
- `controller`, `operator`: the controller's state and process.
- `hook`: the Helm post-install/upgrade pre-warm.
"""
