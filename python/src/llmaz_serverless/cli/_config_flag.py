"""`--config`, the runtime.yaml every long-running command reads: gateway, worker, warmup, sim, up.

One definition, so the flag means the same everywhere: a path to runtime.yaml (the chart's
ConfigMap, or manifests/local/runtime.yaml), defaulting to the environment variable
LLMAZ_SERVERLESS_CONFIG, which a container or a shell can set once for every command. The file is
the lowest of the settings' four forms (settings.py states their precedence). The leading
underscore keeps this module out of the command list.
"""

from __future__ import annotations

import argparse
import os

CONFIG_ENV = "LLMAZ_SERVERLESS_CONFIG"


def add_config_flag(
    parser: argparse.ArgumentParser, reads: str, *, required: bool = False, keep_earlier: bool = False
) -> None:
    """Add `--config FILE`; `reads` says what the command takes from it.

    required: the command cannot run without a file (satisfied by the environment variable too).
    keep_earlier: for a subcommand, a --config given before it (on the parent) is kept when none
    is given after it.
    """
    from_env = os.environ.get(CONFIG_ENV) or None
    default = argparse.SUPPRESS if keep_earlier else from_env
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        required=required and from_env is None,
        help=f"runtime.yaml (default: env {CONFIG_ENV}); {reads}",
    )
