"""What `make e2e` installs, checked here without a cluster: files, pins, values, names, flags."""

from __future__ import annotations

import tomllib

import pytest
import yaml

from llmaz_serverless.cli import build_parser
from llmaz_serverless.emulator.settings import EmulatorSettings
from llmaz_serverless.render.validate import validate_objects
from llmaz_serverless.toolpaths import repo_root
from llmaz_serverless_testing.e2e import plan
from llmaz_serverless_testing.e2e.names import install_names, subchart_values


@pytest.mark.parametrize("profile", plan.PROFILES)
def test_every_file_a_step_reads_exists(profile):
    steps = plan.install_plan(profile)
    missing = [str(f) for step in steps for f in step.files if not f.exists()]
    assert missing == []


def test_unknown_profile_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="emulator, llamacpp"):
        plan.install_plan("gpu")


def test_the_kind_plan_installs_the_stack_chart_at_the_versions_toml_pins():
    pins = tomllib.loads((repo_root() / "versions.toml").read_text())["charts"]
    stack = repo_root() / "charts" / "llmaz-serverless-stack"
    deps = yaml.safe_load((stack / "Chart.yaml").read_text())["dependencies"]
    assert {d["name"]: str(d["version"]) for d in deps if d["name"] in pins} == {
        name: pin["version"] for name, pin in pins.items()
    }
    steps = plan.install_plan("emulator")
    keda = next(s for s in steps if s.name.startswith("install KEDA and llmaz"))
    assert str(stack) in keda.argv


def test_keda_goes_in_before_the_add_on_and_both_before_the_models():
    steps = plan.install_plan("emulator")
    names = [s.name for s in steps]
    keda = next(i for i, n in enumerate(names) if n.startswith("install KEDA and llmaz"))
    addon = next(i for i, n in enumerate(names) if n.startswith("install the HTTP add-on"))
    runtime = next(i for i, n in enumerate(names) if "BackendRuntime" in n)
    models = next(i for i, n in enumerate(names) if "llmaz-serverless with the e2e values" in n)
    assert keda < addon < runtime < models
    # The add-on's chart ships a ScaledObject: KEDA's CRDs must exist before it installs.
    assert "keda-add-ons-http.enabled=false,llmaz-serverless.enabled=false" in steps[keda].argv
    assert "llmaz-serverless.enabled=false" in steps[addon].argv
    assert not any(a.startswith("llmaz-serverless.enabled") for a in steps[models].argv)


def test_kind_config_names_the_cluster_the_plan_loads_images_into():
    config = yaml.safe_load((repo_root() / "manifests" / "kind" / "cluster.yaml").read_text())
    assert config["name"] == plan.CLUSTER_NAME


@pytest.mark.parametrize("profile", plan.PROFILES)
def test_profile_renders_valid_objects_that_start_at_zero(profile):
    names = install_names(profile)
    reports = validate_objects(list(names.objects), namespace=plan.NAMESPACE)
    assert [(r.kind, r.name, [p.sentence() for p in r.problems]) for r in reports if r.status != "ok"] == []
    assert names.models, "the e2e values must define a model"
    for model in names.models:
        playground = next(o for o in names.objects if o.kind == "Playground" and o.name == model.playground)
        assert playground.body["spec"]["replicas"] == 0
        assert "external-push" in model.triggers and "redis-streams" in model.triggers
        route = next(o for o in names.objects if o.kind == "InterceptorRoute" and o.name == model.route)
        assert route.body["spec"]["target"]["service"] == f"{model.playground}-lb"
    assert names.worker_scaled_object, "the async test needs the worker's own ScaledObject"


def test_emulator_backend_flags_parse_with_the_real_sim_command():
    runtime = yaml.safe_load((repo_root() / "manifests" / "e2e" / "backendruntime-emulator.yaml").read_text())
    assert runtime["spec"]["commands"] == ["llmaz-serverless", "sim"]
    defaults = next(a["flags"] for a in runtime["spec"]["args"] if a["name"] == "default")
    model = subchart_values("emulator")["models"][0]
    args = build_parser().parse_args(["sim", *defaults, *model["backend"]["args"]])
    settings = EmulatorSettings.load(None, args)
    assert settings.model == model["servedName"]
    assert settings.port == 8080 and settings.host == "0.0.0.0"
    assert model["backend"]["runtime"] == runtime["metadata"]["name"]
