"""Configuration files of the local cluster's node components, as text.

Pure functions of the layout, so the unit tests can read every setting that keeps
the cluster inside this VM (no masquerade, no DNS upstream, no registry) without
starting anything.
"""

from __future__ import annotations

import json

import yaml
from layout import (
    BRIDGE,
    CLUSTER_DOMAIN,
    CLUSTER_NAME,
    COREDNS_HEALTH,
    NODE_IP,
    POD_CIDR,
    Layout,
)

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


def containerd_toml(lay: Layout) -> str:
    run = lay.run
    return f"""# Written by scripts/cluster/configs.py
version = 2
root = "{lay.state / "containerd"}"
state = "{run / "containerd" / "state"}"

[grpc]
  address = "{lay.containerd_socket}"

[ttrpc]
  address = "{run / "containerd" / "containerd.sock.ttrpc"}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # The VM lacks CAP_SYS_RESOURCE: a negative oom_score_adj for the pause
  # container is refused and every sandbox fails to start without this.
  restrict_oom_score_adj = true
  # Keep pod network namespaces under our own state, not /var/run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{run / "runc"}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{lay.state / "cni" / "net.d"}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{lay.state / "containerd-opt"}"
"""


def cni_conflist(lay: Layout) -> str:
    gateway = NODE_IP
    return json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": CLUSTER_NAME,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    # No masquerade: pod traffic must never be rewritten to leave the VM.
                    "ipMasq": False,
                    # A pod reaching itself through its Service's IP.
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR, "rangeStart": "198.18.0.10", "gateway": gateway}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(lay.state / "cni" / "ipam"),
                    },
                },
                {"type": "loopback"},
            ],
        },
        indent=2,
    )


def kubelet_config(lay: Layout) -> str:
    pki = lay.pki
    cfg = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": NODE_IP,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        # containerd 1.6 has no RuntimeConfig call to report its cgroup driver.
        "cgroupDriver": "cgroupfs",
        # This VM has cgroup v1 only; 1.34 warns, and this keeps it from refusing.
        "failCgroupV1": False,
        "containerRuntimeEndpoint": f"unix://{lay.containerd_socket}",
        "clusterDomain": CLUSTER_DOMAIN,
        # CoreDNS runs on the host and listens on the bridge address.
        "clusterDNS": [NODE_IP],
        # Pods get no nameserver from the host: DNS answers only for the cluster.
        "resolvConf": str(lay.state / "resolv.conf"),
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        "failSwapOn": False,
        "podLogsDirectory": str(lay.state / "pod-logs"),
        # A shared dev VM: do not evict pods over the host's disk.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False,
        "maxPods": 110,
    }
    return yaml.safe_dump(cfg, sort_keys=False)


def kube_proxy_config(lay: Layout, kubeconfig: str) -> str:
    cfg = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": kubeconfig},
        "clusterCIDR": POD_CIDR,
        "bindAddress": NODE_IP,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        # NodePorts only on the bridge address, never on the VM's own interfaces.
        "nodePortAddresses": [f"{NODE_IP}/32"],
        # Leave the host's conntrack sysctls as they are.
        "conntrack": {"maxPerCore": 0},
    }
    return yaml.safe_dump(cfg, sort_keys=False)


def corefile(kubeconfig: str) -> str:
    # No `forward`: names outside the cluster get NXDOMAIN and nothing leaves the VM.
    return f"""{CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {{
    bind {NODE_IP}
    errors
    health {COREDNS_HEALTH}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} {CLUSTER_NAME}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
}}
.:53 {{
    bind {NODE_IP}
    errors
    template ANY ANY {{
        rcode NXDOMAIN
    }}
}}
"""


# What CoreDNS reads, as upstream's own ClusterRole `system:coredns` grants it.
COREDNS_RBAC = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:coredns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:coredns
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: system:coredns
"""
