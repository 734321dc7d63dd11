"""The local cluster's scripts (scripts/cluster/) are plain modules beside each other."""

import sys

from llmaz_serverless.toolpaths import repo_root

sys.path.insert(0, str(repo_root() / "scripts" / "cluster"))
