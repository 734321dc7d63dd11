"""llmaz-serverless: serverless llmaz models on Kubernetes with KEDA."""

__version__ = "0.1.0"
