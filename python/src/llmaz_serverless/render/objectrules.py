"""Checks on rendered objects that a JSON schema cannot state.

Per object: KEDA's admission-webhook rules for a ScaledObject (replica
bounds as KEDA computes them, unique trigger names, fallback needs an
AverageValue trigger, scalingModifiers formula names real triggers), the API
server's name and label rules, and the chart's own rule that a KEDA-scaled
Playground carries no `elasticConfig` (llmaz would add an HPA of its own).

Across objects: one scaler per scale target (KEDA's webhook rejects a
second ScaledObject or an HPA on the same target), every `external-push`
trigger names a rendered InterceptorRoute, every ScaledObject targets a
rendered object, and an InterceptorRoute aimed at `<playground>-lb` has that
Playground.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from llmaz_serverless.render.documents import RenderedObject
from llmaz_serverless.values.messages import Explanation, did_you_mean, show

Finding = tuple[int, Explanation]  # (object index, explanation)

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
# expr-lang words a scalingModifiers formula may use that are not trigger names.
_FORMULA_WORDS = {
    "and", "or", "not", "in", "true", "false", "nil", "matches", "contains", "startsWith", "endsWith",
    "abs", "ceil", "floor", "round", "min", "max", "mean", "median", "int", "float", "len", "sum",
}  # fmt: skip
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Kinds that KEDA or an HPA can scale and whose names this module tracks.
_SCALER_KINDS = {("keda.sh", "ScaledObject"), ("autoscaling", "HorizontalPodAutoscaler")}


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# A misshapen field reads as empty here: the JSON schema reports its type on its own.
def _mapping(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _items(parent: dict[str, Any], key: str) -> list[Any]:
    value = parent.get(key)
    return value if isinstance(value, list) else []


def check_names(obj: RenderedObject) -> list[Explanation]:
    out: list[Explanation] = []
    name = obj.metadata.get("name")
    if not isinstance(name, str) or not name:
        if not obj.metadata.get("generateName"):
            out.append(Explanation(("metadata", "name"), "is required but missing", None, "set a name"))
        return out
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        out.append(
            Explanation(
                ("metadata", "name"),
                "is not a valid object name (lower-case letters, digits, '-' and '.', at most 253)",
                show(name),
                "use a DNS-1123 subdomain name",
            )
        )
    if (
        obj.kind == "Service"
        and obj.api_version == "v1"
        and (len(name) > 63 or not _DNS1035_LABEL.match(name))
    ):
        out.append(
            Explanation(
                ("metadata", "name"),
                "is not a valid Service name (DNS-1035 label: starts with a letter, at most 63)",
                show(name),
                "shorten the release or model name",
            )
        )
    if obj.kind == "Playground" and len(name) + len("-lb") > 63:
        out.append(
            Explanation(
                ("metadata", "name"),
                f"is {len(name)} characters: llmaz names its Service `<name>-lb`, which would exceed 63",
                show(name),
                "keep Playground names at 60 characters or fewer",
            )
        )
    for field in ("labels",):
        labels = obj.metadata.get(field)
        if not isinstance(labels, dict):
            continue
        for key, value in labels.items():
            prefix, _, label = str(key).rpartition("/")
            if (
                len(label) > 63
                or not _LABEL_NAME.match(label)
                or (prefix and not _DNS1123_SUBDOMAIN.match(prefix))
            ):
                out.append(
                    Explanation(
                        ("metadata", field, key), "is not a valid label key", show(key), "use prefix/name"
                    )
                )
            if isinstance(value, str) and (len(value) > 63 or not _LABEL_VALUE.match(value)):
                out.append(
                    Explanation(
                        ("metadata", field, key),
                        "is not a valid label value (63 or fewer of A-Za-z0-9-_., alphanumeric at both ends)",
                        show(value),
                        "shorten or simplify it",
                    )
                )
    return out


def check_scaled_object(body: dict[str, Any]) -> list[Explanation]:
    """The admission checks of KEDA 2.20's ScaledObject webhook, as KEDA computes them."""
    spec = body.get("spec")
    if not isinstance(spec, dict):
        return []
    triggers = _items(spec, "triggers")
    out = _check_replica_bounds(spec)
    trigger_problems, names = _check_triggers(triggers)
    out += trigger_problems
    modifiers = _mapping(_mapping(spec, "advanced"), "scalingModifiers")
    if modifiers:
        out += _check_modifiers(modifiers, names)
    fallback = spec.get("fallback")
    if isinstance(fallback, dict):
        out += _check_fallback(modifiers, triggers)
    return out


def _check_replica_bounds(spec: dict[str, Any]) -> list[Explanation]:
    """minReplicaCount, maxReplicaCount and idleReplicaCount as KEDA compares them."""
    out: list[Explanation] = []
    min_set = _int(spec.get("minReplicaCount"))
    max_set = _int(spec.get("maxReplicaCount"))
    idle = _int(spec.get("idleReplicaCount"))
    # KEDA: an explicit minReplicaCount of 0 counts as 1 for these bounds (GetHPAMinReplicas),
    # an absent one as 0; maxReplicaCount defaults to 100.
    bound_min = 0 if min_set is None else (min_set if min_set > 0 else 1)
    bound_max = 100 if max_set is None else max_set
    if bound_min > bound_max:
        out.append(
            Explanation(
                ("spec", "maxReplicaCount"),
                f"is below minReplicaCount ({min_set})",
                str(bound_max),
                "set maxReplicaCount >= minReplicaCount",
            )
        )
    if idle is not None and idle >= bound_min:
        fix = (
            "set minReplicaCount too (idleReplicaCount only works below it)"
            if min_set is None
            else "keep idleReplicaCount below minReplicaCount (KEDA counts a minReplicaCount of 0 as 1 here)"
        )
        out.append(
            Explanation(
                ("spec", "idleReplicaCount"),
                f"must be below minReplicaCount ({bound_min} as KEDA counts it)",
                str(idle),
                fix,
            )
        )
    return out


def _check_triggers(triggers: list[Any]) -> tuple[list[Explanation], dict[str, int]]:
    """Trigger names and cached metrics: the problems, and each name's first index."""
    out: list[Explanation] = []
    names: dict[str, int] = {}
    for i, trigger in enumerate(triggers):
        if not isinstance(trigger, dict):
            continue
        name = trigger.get("name")
        if isinstance(name, str) and name:
            if name in names:
                out.append(
                    Explanation(
                        ("spec", "triggers", i, "name"),
                        f"repeats the name of triggers[{names[name]}]",
                        show(name),
                        "give every trigger a unique name",
                    )
                )
            names.setdefault(name, i)
        if trigger.get("useCachedMetrics") and trigger.get("type") in ("cpu", "memory", "cron"):
            out.append(
                Explanation(
                    ("spec", "triggers", i, "useCachedMetrics"),
                    f"is not supported by the {trigger.get('type')} scaler",
                    "true",
                    "remove useCachedMetrics",
                )
            )
    return out, names


def _check_modifiers(modifiers: dict[str, Any], names: dict[str, int]) -> list[Explanation]:
    """scalingModifiers: a formula over trigger names, and a target."""
    out: list[Explanation] = []
    formula = modifiers.get("formula")
    base = ("spec", "advanced", "scalingModifiers")
    if not formula:
        out.append(Explanation((*base, "formula"), "is required when scalingModifiers is set", None, None))
    else:
        for word in sorted(set(_IDENT.findall(str(formula))) - _FORMULA_WORDS):
            if word not in names:
                guess = did_you_mean(word, names)
                fix = f"did you mean `{guess}`?" if guess else f"use trigger names: {', '.join(names)}"
                hyphenated = [n for n in names if "-" in n and word in n.split("-")]
                if hyphenated:
                    fix = (
                        f"`{hyphenated[0]}` contains '-', which a formula reads as subtraction; "
                        "rename the trigger without '-'"
                    )
                out.append(
                    Explanation(
                        (*base, "formula"), f"names `{word}`, which is no trigger", show(formula), fix
                    )
                )
    if not modifiers.get("target"):
        out.append(Explanation((*base, "target"), "is required when scalingModifiers is set", None, None))
    return out


def _check_fallback(modifiers: dict[str, Any], triggers: list[Any]) -> list[Explanation]:
    """spec.fallback needs an AverageValue metric to scale from."""
    out: list[Explanation] = []
    if modifiers:
        if modifiers.get("metricType") == "Value":
            out.append(
                Explanation(
                    ("spec", "fallback"),
                    "needs scalingModifiers.metricType AverageValue",
                    "Value",
                    "set metricType: AverageValue or drop the fallback",
                )
            )
    else:
        usable = [
            t
            for t in triggers
            if isinstance(t, dict)
            and t.get("type") not in ("cpu", "memory")
            and t.get("metricType", "AverageValue") in ("AverageValue", "", None)
        ]
        if not usable:
            out.append(
                Explanation(
                    ("spec", "fallback"),
                    "needs at least one trigger (not cpu/memory) with metricType AverageValue",
                    None,
                    "set metricType: AverageValue on a trigger or drop the fallback",
                )
            )
    return out


def check_playground(body: dict[str, Any]) -> list[Explanation]:
    spec = body.get("spec")
    if isinstance(spec, dict) and "elasticConfig" in spec:
        return [
            Explanation(
                ("spec", "elasticConfig"),
                "is set on a Playground KEDA scales: llmaz would create its own HPA beside KEDA's",
                None,
                "remove elasticConfig; the ScaledObject owns scaling",
            )
        ]
    return []


def check_each(obj: RenderedObject) -> list[Explanation]:
    out = check_names(obj)
    if not isinstance(obj.body, dict):
        return out
    if obj.api_version == "keda.sh/v1alpha1" and obj.kind == "ScaledObject":
        out += check_scaled_object(obj.body)
    return out


# Long on purpose: one pass over the manifest fills the cross-object indexes (scale targets,
# scaled Playgrounds) while it checks each object against the sets built before it; split up,
# every piece would take the same five sets and the namespace default as arguments.
def check_across(objects: list[RenderedObject], default_namespace: str) -> list[Finding]:
    """Rules that need the whole manifest."""
    findings: list[Finding] = []

    def ns(obj: RenderedObject) -> str:
        return obj.namespace or default_namespace

    present = {(_group(o.api_version), o.kind, ns(o), o.name) for o in objects}
    routes = {(ns(o), o.name) for o in objects if o.kind == "InterceptorRoute"}
    playgrounds = {(ns(o), o.name) for o in objects if o.kind == "Playground"}
    targets: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    scaled_playgrounds: set[tuple[str, str]] = set()

    for obj in objects:
        if not isinstance(obj.body, dict):
            continue
        spec = _mapping(obj.body, "spec")
        if (_group(obj.api_version), obj.kind) in _SCALER_KINDS:
            ref = _mapping(spec, "scaleTargetRef")
            kind = str(ref.get("kind") or "Deployment")
            group = _group(str(ref.get("apiVersion") or "apps/v1"))
            name = str(ref.get("name") or "")
            key = (group, kind, ns(obj), name)
            targets[key].append(obj.index)
            if kind == "Playground":
                scaled_playgrounds.add((ns(obj), name))
            if obj.kind == "ScaledObject" and name and key not in present:
                findings.append(
                    (
                        obj.index,
                        Explanation(
                            ("spec", "scaleTargetRef"),
                            f"targets {kind} {name!r}, which this manifest does not render",
                            name,
                            "point scaleTargetRef at an object of the release",
                        ),
                    )
                )
        if obj.kind == "ScaledObject":
            for i, trigger in enumerate(spec.get("triggers") or []):
                if not isinstance(trigger, dict) or trigger.get("type") != "external-push":
                    continue
                meta = _mapping(trigger, "metadata")
                route = meta.get("interceptorRoute")
                if route and (ns(obj), route) not in routes:
                    findings.append(
                        (
                            obj.index,
                            Explanation(
                                ("spec", "triggers", i, "metadata", "interceptorRoute"),
                                "names an InterceptorRoute this manifest does not render",
                                show(route),
                                "use the name of the model's InterceptorRoute",
                            ),
                        )
                    )
        if obj.kind == "InterceptorRoute":
            target = _mapping(spec, "target")
            service = str(target.get("service") or "")
            if (
                service.endswith("-lb")
                and playgrounds
                and (ns(obj), service[: -len("-lb")]) not in playgrounds
            ):
                findings.append(
                    (
                        obj.index,
                        Explanation(
                            ("spec", "target", "service"),
                            "is an llmaz `<playground>-lb` Service of no rendered Playground",
                            show(service),
                            "target `<playground name>-lb` of the model's Playground",
                        ),
                    )
                )

    for (_, kind, _, name), indexes in targets.items():
        if len(indexes) > 1:
            for index in indexes[1:]:
                findings.append(
                    (
                        index,
                        Explanation(
                            ("spec", "scaleTargetRef"),
                            f"{kind} {name!r} already has a scaler (KEDA allows one ScaledObject or HPA "
                            "per target)",
                            name,
                            "put all triggers in one ScaledObject",
                        ),
                    )
                )
    for obj in objects:
        if (
            obj.kind == "Playground"
            and (ns(obj), obj.name) in scaled_playgrounds
            and isinstance(obj.body, dict)
        ):
            findings.extend((obj.index, e) for e in check_playground(obj.body))
    return findings
