# gitops-bot: one image for `serve` (webhooks), `worker` (review jobs) and `review` (CI, CLI).
#
#   docker build -t gitops-bot .
#   docker run --rm -p 8080:8080 --env-file bot.env gitops-bot                 # serve
#   docker run --rm --env-file bot.env -v bot-data:/var/lib/gitops-bot gitops-bot worker
#   docker run --rm -v "$PWD:/repo:ro" gitops-bot review --repo /repo --base main --head HEAD
#
# helm and kustomize are the official linux/amd64 release archives, verified by SHA-256 before
# anything is extracted. Checksums: helm's release notes (get.helm.sh/<archive>.sha256sum) and
# kustomize's release `checksums.txt`; change a version only together with its checksum.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS tools
ARG HELM_VERSION=3.17.3
ARG HELM_SHA256=ee88b3c851ae6466a3de507f7be73fe94d54cbf2987cbaa3d1a3832ea331f2cd
ARG KUSTOMIZE_VERSION=5.5.0
ARG KUSTOMIZE_SHA256=6703a3a70a0c47cf0b37694030b54f1175a9dfeb17b3818b623ed58b9dbc2a77
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
WORKDIR /tmp/tools
# Python's urllib instead of curl: nothing to apt-get in this stage. An empty checksum (a build
# that overrides a version without its checksum) stops the build instead of skipping the check.
RUN [ "$(uname -m)" = x86_64 ] || { echo "the pinned helm/kustomize are linux/amd64 only" >&2; exit 1; }; \
    [ -n "$HELM_SHA256" ] && [ -n "$KUSTOMIZE_SHA256" ] || { echo "missing SHA-256" >&2; exit 1; }; \
    fetch() { python -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"; }; \
    fetch "https://get.helm.sh/helm-v${HELM_VERSION}-linux-amd64.tar.gz" helm.tar.gz; \
    echo "${HELM_SHA256}  helm.tar.gz" | sha256sum --check --strict; \
    fetch "https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2Fv${KUSTOMIZE_VERSION}/kustomize_v${KUSTOMIZE_VERSION}_linux_amd64.tar.gz" kustomize.tar.gz; \
    echo "${KUSTOMIZE_SHA256}  kustomize.tar.gz" | sha256sum --check --strict; \
    tar -xzf helm.tar.gz linux-amd64/helm; \
    tar -xzf kustomize.tar.gz kustomize; \
    install -D -m 0755 linux-amd64/helm /opt/tools/helm; \
    install -D -m 0755 kustomize /opt/tools/kustomize; \
    /opt/tools/helm version --short; \
    /opt/tools/kustomize version

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/gitops-bot
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY policies ./policies
COPY examples ./examples
# Editable: the built-in policy library (policies/) and the demo (examples/) are read next to
# the package, so the source tree stays where the install points.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --editable .

FROM ${PYTHON_IMAGE}
# git: revisions and history; gpgv, ssh-keygen, openssl: commit signature verification.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git gpgv openssh-client openssl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/gitops-bot \
        --shell /usr/sbin/nologin gitops-bot \
    && install -d -o 10001 -g 10001 /var/lib/gitops-bot
COPY --from=tools /opt/tools/helm /opt/tools/kustomize /usr/local/bin/
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/gitops-bot /opt/gitops-bot
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GITOPS_BOT_HELM=/usr/local/bin/helm \
    GITOPS_BOT_KUSTOMIZE=/usr/local/bin/kustomize \
    GITOPS_BOT_DATA_DIR=/var/lib/gitops-bot
USER 10001:10001
WORKDIR /home/gitops-bot
# `review` on a checkout mounted at /repo (owned by the host user): git refuses another user's
# repository unless it is named here. Only this path, not '*'.
RUN git config --global --add safe.directory /repo
VOLUME ["/var/lib/gitops-bot"]
EXPOSE 8080
HEALTHCHECK NONE
ENTRYPOINT ["gitops-bot"]
CMD ["serve", "--host", "0.0.0.0"]
