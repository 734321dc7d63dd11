"""Test support for llmaz-serverless, kept out of the runtime wheel and the image.

- `appservers`: the gateway and the emulator in a thread (`GatewayServer`, `EmulatorServer`);
- `servers`: NATS JetStream and Prometheus from Debian on loopback;
- `worker`: a webhook receiver, moto's S3 emulator, worker configs and processes, a job client;
- `warmup`: API-shaped pods and Playgrounds and a recording KubeApi (like `kopf.testing`);
- `e2e`: the install plan, cluster readers and waits of the e2e suite.
"""
