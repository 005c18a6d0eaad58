# syntax=docker/dockerfile:1
# The worker image. One image, one entry point per task queue, chosen by the Kubernetes Deployment's
# command (node --import tsx workers/io.ts | workers/training.ts | workers/execution.ts).
#   docker build -t ghcr.io/temporal-trader/trader:0.1.0 .                   # CPU (default target)
#   docker build --target gpu -t ghcr.io/temporal-trader/trader:0.1.0-gpu .  # CUDA XGBoost, training nodes
# The development machines have no Docker engine: this file is not built by the test suite.

FROM node:20-bookworm-slim AS base
ENV NODE_ENV=production \
    npm_config_update_notifier=false
# libxgboost0: XGBoost's C library, called through koffi (CPU build; see the gpu stage for CUDA).
# tini: a real PID 1 that forwards SIGTERM to node and reaps children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libxgboost0 tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The lockfile and package.json's "allowScripts" are written for npm 11 (the image ships npm 10).
RUN npm install -g npm@11.19.1 && npm cache clean --force
# A fixed non-root uid: the Kubernetes pods run with runAsUser 10001 and runAsNonRoot.
RUN groupadd --system --gid 10001 trader \
 && useradd --system --uid 10001 --gid trader --home-dir /app --no-create-home --shell /usr/sbin/nologin trader
WORKDIR /app
# Dependencies first so code changes reuse this layer. .npmrc skips onnxruntime-node's download step.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force
# Source (what .dockerignore lets through); owned by root and read-only to the worker user.
COPY . .
USER 10001:10001
# Anything that caches under $HOME writes to /tmp, a writable emptyDir in the pods (the root filesystem is
# read-only there).
ENV HOME=/tmp
EXPOSE 9464
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "workers/dev.ts"]

# GPU variant: the pip wheel of XGBoost is built with CUDA (Debian's libxgboost0 is CPU-only). The NVIDIA
# driver and libcuda come from the node through the NVIDIA container runtime.
FROM base AS gpu
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv \
 && python3 -m venv /opt/xgboost-venv \
 && /opt/xgboost-venv/bin/pip install --no-cache-dir xgboost==2.1.4 \
 && mkdir -p /opt/xgboost/lib \
 && ln -s "$(/opt/xgboost-venv/bin/python -c 'import xgboost, os; print(os.path.join(os.path.dirname(xgboost.__file__), "lib", "libxgboost.so"))')" /opt/xgboost/lib/libxgboost.so \
 && rm -rf /var/lib/apt/lists/*
ENV XGBOOST_LIBRARY_PATH=/opt/xgboost/lib/libxgboost.so
USER 10001:10001

# The default target: the CPU image.
FROM base AS runtime
