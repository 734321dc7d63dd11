"""Settings of the local node that keep every packet and lookup inside this VM."""

import ipaddress
import json
import tomllib
from pathlib import Path

import configs
import node
import yaml
from layout import BRIDGE, GUARDED_RANGE, NODE_IP, POD_CIDR, SERVICE_CIDR, SERVICE_IP, Layout, load_pins

LAY = Layout(Path("/tmp/cache-for-test"))


def test_pod_and_service_ranges_sit_inside_the_fenced_test_range():
    fence = ipaddress.ip_network(GUARDED_RANGE)
    for net in (POD_CIDR, SERVICE_CIDR):
        assert ipaddress.ip_network(net).subnet_of(fence)
    for ip in (NODE_IP, SERVICE_IP):
        assert ipaddress.ip_address(ip) in fence
    # 198.18.0.0/15 is RFC 2544's benchmarking range: no one's real network.
    assert fence == ipaddress.ip_network("198.18.0.0/15")


def test_the_pod_network_never_masquerades_and_uses_our_bridge():
    conf = json.loads(configs.cni_conflist(LAY))
    bridge = next(p for p in conf["plugins"] if p["type"] == "bridge")
    assert bridge["ipMasq"] is False
    assert bridge["bridge"] == BRIDGE
    assert bridge["ipam"]["ranges"][0][0]["subnet"] == POD_CIDR
    assert bridge["ipam"]["dataDir"].startswith(str(LAY.state))


def test_dns_answers_only_for_the_cluster():
    text = configs.corefile("/k.kubeconfig")
    assert "forward" not in text
    assert "rcode NXDOMAIN" in text
    assert f"bind {NODE_IP}" in text


def test_containerd_keeps_its_state_in_our_directories_and_restricts_oom_score_adj():
    cfg = tomllib.loads(configs.containerd_toml(LAY))
    cri = cfg["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True
    assert cri["netns_mounts_under_state_dir"] is True
    assert cfg["root"].startswith(str(LAY.state))
    assert cfg["state"].startswith(str(LAY.run))
    assert cfg["grpc"]["address"] == str(LAY.containerd_socket)
    assert cri["containerd"]["runtimes"]["runc"]["options"]["Root"].startswith(str(LAY.run))


def test_kubelet_gives_pods_no_host_nameserver_and_runs_on_cgroup_v1():
    cfg = yaml.safe_load(configs.kubelet_config(LAY))
    assert cfg["clusterDNS"] == [NODE_IP]
    assert cfg["resolvConf"].startswith(str(LAY.state))
    assert cfg["failCgroupV1"] is False
    assert cfg["cgroupDriver"] == "cgroupfs"


def test_kube_proxy_opens_node_ports_only_on_the_bridge_address():
    cfg = yaml.safe_load(configs.kube_proxy_config(LAY, "/k"))
    assert cfg["nodePortAddresses"] == [f"{NODE_IP}/32"]


def test_the_guard_lets_cluster_addresses_out_only_over_the_bridge_and_loopback():
    rules = node.guard_rules()
    returns = [r[1] for r in rules if r[-1] == "RETURN"]
    drops = [r for r in rules if r[-1] == "DROP"]
    assert sorted(returns) == sorted([BRIDGE, "lo"])
    assert ["-s", GUARDED_RANGE, "-j", "DROP"] in drops and ["-d", GUARDED_RANGE, "-j", "DROP"] in drops
    # The RETURN rules come first: a drop before them would cut the bridge itself.
    assert rules.index(drops[0]) > max(i for i, r in enumerate(rules) if r[-1] == "RETURN")


def test_every_pinned_component_names_a_module_version_and_main_packages():
    pins = load_pins()
    for name in ("kubernetes", "etcd", "coredns", "cri-tools", "keda", "http-add-on", "lws", "llmaz"):
        pin = pins[name]
        assert pin["module"] and pin["version"].startswith("v") and pin["packages"], name
    assert pins["kubernetes"]["version"].startswith("v1.34."), (
        "docs/design/e2e.md explains the choice of 1.34"
    )
