"""Splitting helm output into objects."""

from __future__ import annotations

import pytest

from llmaz_serverless.render.documents import ManifestError, split_manifest

MANIFEST = """\
---
# Source: chart/templates/a.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  when: 2024-01-01
---
# Source: chart/templates/disabled.yaml
---
# Source: chart/templates/b.yaml
apiVersion: v1
kind: Service
metadata: {name: b, namespace: ns}
"""


def test_objects_keep_their_template_when_split() -> None:
    objects = split_manifest(MANIFEST)
    assert [(o.kind, o.name, o.namespace, o.source, o.index) for o in objects] == [
        ("ConfigMap", "a", "", "chart/templates/a.yaml", 0),
        ("Service", "b", "ns", "chart/templates/b.yaml", 1),
    ]


def test_dates_stay_strings_when_parsed_like_helm() -> None:
    # The API server receives the string helm wrote; a date object would fail the string schema.
    assert split_manifest(MANIFEST)[0].body["data"]["when"] == "2024-01-01"


def test_manifest_error_names_the_template_when_yaml_is_broken() -> None:
    with pytest.raises(ManifestError, match=r"chart/templates/bad.yaml: helm rendered invalid YAML"):
        split_manifest("---\n# Source: chart/templates/bad.yaml\nkind: [unclosed\n")


def test_empty_manifest_has_no_objects_when_everything_is_disabled() -> None:
    assert split_manifest("---\n# Source: x.yaml\n---\n") == []
