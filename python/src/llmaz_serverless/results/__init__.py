"""Job status, results and payloads: Redis for small things, an object store for big ones."""
