"""`llmaz-serverless report RUN_DIR`: a load-test run turned into HTML, Markdown and PNG plots.

- `rundata`: reads the run directory (requests.csv, replicas.csv, run.json).
- `summary`: every number of the report, computed from the raw CSVs.
- `thresholds`: pass/fail checks from loadtest/thresholds.yaml.
- `plots`: the PNG figures (matplotlib, Agg backend).
- `markdown`, `html`: the two documents; `build.write_report` writes all of it.
"""
