#!/usr/bin/env bash
# Set up everything `make run` and `make test` need on a fresh Debian/Ubuntu machine:
# system packages (apt-get when missing, sudo when not root), then .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the project needs at run or test time. Later issues add pcscd etc.
SYSTEM_PACKAGES=(python3 python3-venv python3-pip)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PY=$c; break
    fi
  done
fi

if [ -z "$PY" ] && [ ${#missing[@]} -gt 0 ] || { [ ${#missing[@]} -gt 0 ] && [ "${CCCD_INSTALL_SYSTEM:-auto}" = "always" ]; }; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "bootstrap: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
  PY=python3
fi
if [ -z "$PY" ]; then
  echo "bootstrap: need Python >= 3.11 with venv; install python3 and python3-venv" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "bootstrap: ready ($(.venv/bin/python --version))"
