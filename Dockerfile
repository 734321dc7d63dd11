# One image for every Python component of llmaz-serverless: the gateway, the
# async worker, the warmup controller and its Helm hook, and the model-server
# emulator (a test tool). The chart picks the component by its arguments:
#   args: [gateway, --config, /etc/llmaz-serverless/runtime.yaml]
#   args: [warmup, controller, --config, /etc/llmaz-serverless/runtime.yaml]
#   args: [warmup, --once, --config, /etc/llmaz-serverless/runtime.yaml]
#
#   docker build -t llmaz-serverless:dev .
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/llmaz-serverless
ENV PATH=/opt/llmaz-serverless/bin:$PATH

# Dependencies first, so a code change does not reinstall them: the runtime
# dependencies of pyproject.toml (no test or load-test extras), pinned to the
# versions in requirements.lock.
COPY python/pyproject.toml python/requirements.lock python/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('python/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/runtime-requirements.txt \
 && pip install --constraint python/requirements.lock --requirement /tmp/runtime-requirements.txt

# Then the package itself.
COPY python/src python/src
RUN pip install --no-deps ./python \
 && llmaz-serverless --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="llmaz-serverless" \
      org.opencontainers.image.description="Gateway, async worker, warmup controller and hook for serverless llmaz models on KEDA" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed numeric non-root user, so `runAsNonRoot: true` can verify it.
RUN groupadd --system --gid 10001 llmaz \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin llmaz
COPY --from=build /opt/llmaz-serverless /opt/llmaz-serverless
ENV PATH=/opt/llmaz-serverless/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["llmaz-serverless"]
CMD ["--help"]
