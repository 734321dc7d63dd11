"""An OpenAI-compatible model-server emulator for tests, `make up` and local load tests.

It answers like vLLM's OpenAI server (the llmaz default backend) with
configurable load time, time to first token, inter-token delay, concurrency
and failures, and exports vLLM's metric names. A test tool: the product path
always targets llmaz model servers.
"""

from llmaz_serverless.emulator.app import build_app
from llmaz_serverless.emulator.server import serve
from llmaz_serverless.emulator.settings import EmulatorSettings

__all__ = ["EmulatorSettings", "build_app", "serve"]
