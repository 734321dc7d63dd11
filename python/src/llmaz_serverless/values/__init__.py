"""Values files: load with file/line marks, merge like Helm, check against the
chart's own values.schema.json, then run the semantic rules the schema cannot
state. `validate.validate_values` is the entry point; `messages` turns schema
errors into sentences and is shared with `render`.
"""
