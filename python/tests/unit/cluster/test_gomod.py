"""The wrapper go.mod that builds upstream binaries whose go.mod has `replace` lines."""

from gomod import replaces, wrapper

KUBERNETES_LIKE = """module k8s.io/kubernetes

go 1.24.0

require (
\tgithub.com/spf13/cobra v1.9.1
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/sample-controller => ./staging/src/k8s.io/sample-controller
)
"""

ETCD_LIKE = """module go.etcd.io/etcd/server/v3

go 1.25.0

require (
\tgo.etcd.io/etcd/api/v3 v3.6.13
\tgithub.com/google/btree v1.1.3
)

replace go.etcd.io/etcd/api/v3 => ../api

replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY

replace github.com/google/cel-go => github.com/google/cel-go v0.26.0 // pinned upstream
"""


def test_staging_replaces_become_the_published_version_of_each_required_module():
    out = replaces(KUBERNETES_LIKE, "v0.34.4")
    assert out == {"k8s.io/api": "v0.34.4", "k8s.io/client-go": "v0.34.4"}


def test_forbidden_and_unrequired_directory_replaces_are_dropped_and_published_ones_kept():
    out = replaces(ETCD_LIKE, "v3.6.13")
    assert out == {
        "go.etcd.io/etcd/api/v3": "v3.6.13",
        "github.com/google/cel-go": "github.com/google/cel-go v0.26.0",
    }


def test_a_directory_replace_without_a_version_to_map_it_to_is_an_error():
    try:
        replaces(ETCD_LIKE, None)
    except SystemExit as err:
        assert "go.etcd.io/etcd/api/v3" in str(err)
    else:
        raise AssertionError("a relative replace needs --staging-version")


def test_wrapper_requires_the_module_and_keeps_its_go_version():
    text = wrapper("k8s.io/kubernetes", "v1.34.4", KUBERNETES_LIKE, "v0.34.4")
    assert "require k8s.io/kubernetes v1.34.4" in text
    assert "go 1.24.0" in text
    assert "replace k8s.io/api => k8s.io/api v0.34.4" in text
    assert "./staging" not in text
