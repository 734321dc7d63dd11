"""Render the chart with the real `helm template` and validate every object.

`helm.py` runs helm, `documents.py` splits its output into objects,
`schemas.py` finds each object's schema (Kubernetes OpenAPI or a CRD schema
from `crds/`), `objectrules.py` adds the checks a schema cannot express
(KEDA's webhook rules, one scaler per target, names), and `validate.py`
puts it together into one report per object.
"""
