"""Trace replay: the requests of a trace file, open loop, at their recorded times and token counts.

Run it with `llmaz-serverless loadtest --local --trace FILE [--window A..B --thin F --speedup X
--gaps EVERY:LENGTH]` (or --target URL); the runner writes the transformed trace to RUN_DIR/trace.csv
and this file replays it. The trace format and the transforms: docs/design/planner.md.
"""

from llmaz_serverless.trace.locust_replay import TraceReplayUser, TraceShape

__all__ = ["TraceReplayUser", "TraceShape"]
