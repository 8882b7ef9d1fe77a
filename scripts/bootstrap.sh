#!/usr/bin/env bash
# Set up everything `make run` and `make test` need on a fresh Debian/Ubuntu machine:
# system packages (apt-get when missing, sudo when not root), then .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the project always needs:
# - pcscd + libpcsclite1: the PC/SC daemon and its client library (pyscard talks to it);
# - vsmartcard-vpcd: pcscd's virtual reader driver, so the PC/SC tests run the simulated card
#   behind a real pcscd (a test tool only: never install it on a deployed kiosk);
# - libpcsclite-dev, swig, gcc, libc6-dev, python3-dev: to build pyscard where no wheel fits.
# - libusb-1.0-0: nfcpy talks to USB NFC frontends through it.
# - libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 and GLib: what the
#   PySide6-Essentials wheel's QtCore/QtGui link against (ICU comes inside the wheel), enough
#   for the kiosk's tests and `make screenshots` on the offscreen platform (no X server);
# - fonts-dejavu-core: a sans-serif font with every Vietnamese letter, so screens and
#   screenshots show "Đặt thẻ lên đầu đọc", not boxes (a bare container has no font at all);
# - libxcb-* and libxkbcommon-x11-0: Qt's xcb platform plugin, for the kiosk on a real display.
# - libzbar0: the QR decoder the ticket tests read printed pages back with (pyzbar).
# "a|b" means either package will do: the first is installed when neither is (Ubuntu 24.04
# renamed GLib's library package for the 64-bit time_t transition).
REQUIRED_DEBS=(pcscd libpcsclite1 vsmartcard-vpcd libpcsclite-dev swig gcc libc6-dev python3-dev
  libusb-1.0-0
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3
  "libglib2.0-0t64|libglib2.0-0" fonts-dejavu-core
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0
  libxcb-xkb1 libxkbcommon-x11-0 libzbar0)
# make deb and its install test (tests/packaging): the system python3's venv the package is
# built with, systemd-analyze to verify the units, cage (the compositor the kiosk unit runs).
DEB_DEBS=(python3-venv systemd cage adduser)
# Debian packages needed only when no Python >= 3.11 with venv is on the machine.
PYTHON_DEBS=(python3 python3-venv python3-pip python3-dev)
# PostgreSQL server for the shared-storage tests (tests/fixtures/postgres.py: a private
# initdb per xdist worker, never the system cluster).
PG_DEBS=(postgresql)
# A bare X server (no window manager) for the full-screen geometry test
# (tests/ui/test_ui_lockdown.py: the kiosk must fill the screen without a WM's help).
XVFB_DEBS=(xvfb)
# Headless Chromium for the calling display's browser test (tests/display/test_browser.py:
# Playwright drives the system /usr/bin/chromium; no browser is downloaded).
BROWSER_DEBS=(chromium)
# The Vietnamese voice of the calling display's announcements (kiosk/voice.py: espeak-ng -v vi).
VOICE_DEBS=(espeak-ng)

find_python() {
  for c in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}

deb_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# The first of "a|b|…" this machine's apt knows (else the first), to install when none is there.
deb_pick() {
  local alt
  for alt in "$@"; do
    if apt-cache policy "$alt" 2>/dev/null | grep -q "Candidate: [^(]"; then
      echo "$alt"; return 0
    fi
  done
  echo "$1"
}

deb_missing() {
  local out=() p alts a found
  command -v dpkg-query >/dev/null 2>&1 || return 0
  for p in "$@"; do
    IFS='|' read -r -a alts <<<"$p"
    found=""
    for a in "${alts[@]}"; do
      if deb_installed "$a"; then found=1; break; fi
    done
    [ -n "$found" ] || out+=("$(deb_pick "${alts[@]}")")
  done
  echo "${out[@]:-}"
}

apt_install() {
  [ $# -gt 0 ] || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing Debian packages: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

need=()
PY=$(find_python) || need+=("${PYTHON_DEBS[@]}")
if [ ${#REQUIRED_DEBS[@]} -gt 0 ]; then
  read -r -a more <<<"$(deb_missing "${REQUIRED_DEBS[@]}")"
  need+=("${more[@]}")
fi
read -r -a more <<<"$(deb_missing "${PG_DEBS[@]}")"
need+=("${more[@]}")
read -r -a more <<<"$(deb_missing "${DEB_DEBS[@]}")"
need+=("${more[@]}")
read -r -a more <<<"$(deb_missing "${XVFB_DEBS[@]}")"
need+=("${more[@]}")
read -r -a more <<<"$(deb_missing "${BROWSER_DEBS[@]}")"
need+=("${more[@]}")
read -r -a more <<<"$(deb_missing "${VOICE_DEBS[@]}")"
need+=("${more[@]}")
if [ ${#need[@]} -gt 0 ]; then
  apt_install "${need[@]}"
fi
PY=${PY:-$(find_python)} || { echo "bootstrap: need Python >= 3.11 with venv (python3-venv)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "bootstrap: ready ($(.venv/bin/python --version))"
