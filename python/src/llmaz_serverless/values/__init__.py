"""Values files: load with file/line marks, merge like Helm, check against the
chart's own values.schema.json, then run the semantic rules the schema cannot
state. `validate.validate_values` is the entry point; `messages` turns schema
errors into sentences and is shared with `render`.
"""

# Registers the `events/*` rules for eventRules (a module of its own, see events/).
from llmaz_serverless.values import event_rules as _event_rules  # noqa: F401

# Registers the rules the chart's templates/_validate.tpl shares (names, fallbacks, bounds, budgets).
from llmaz_serverless.values import release_rules as _release_rules  # noqa: F401
