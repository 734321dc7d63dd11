"""The async worker: queue -> model (through the interceptor) -> result store -> webhook."""
