#!/usr/bin/env bash
# make deb: build dist/cccd-kiosk_<version>_<arch>.deb from a staged tree with dpkg-deb.
#
# The kiosk is a Python venv under /opt/cccd-kiosk (the project wheel and its PyPI deps,
# PySide6-Essentials included), built with the system python3 -m venv and pip, then its
# absolute paths moved from the staging folder to /opt. A plain dpkg-deb of a staged tree
# keeps the build to one script with no debhelper/dh-virtualenv toolchain to install.
#
#   VERSION=0.1.0+2 scripts/build_deb.sh    # the package version (default: pyproject's)
#   BUILD=build/deb                          # staging, wheel cache (kept: rebuilds are fast)
set -euo pipefail
# The package's modes must not depend on the caller's umask (a test process, or an admin
# with umask 077, made DEBIAN/ 0700 and dpkg-deb refused it).
umask 022

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/deb}
PYTHON=${PYTHON:-/usr/bin/python3}
PKG=cccd-kiosk
VERSION=${VERSION:-$("$PYTHON" -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["project"]["version"])' "$ROOT/pyproject.toml")}
ARCH=$(dpkg --print-architecture)
PYVER=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
STAGE=$BUILD/root
OPT=/opt/$PKG
SRC=$ROOT/packaging/deb
OUT=$ROOT/dist/${PKG}_${VERSION}_${ARCH}.deb

rm -rf "$STAGE" "$BUILD/wheel"
mkdir -p "$STAGE/DEBIAN" "$BUILD/wheel" "$BUILD/pip-cache" "$ROOT/dist"

# the venv, built at its staging path, then moved to /opt's paths
"$PYTHON" -m venv "$STAGE$OPT"
export PIP_CACHE_DIR=$BUILD/pip-cache PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheel is built from a private copy of the sources (no __pycache__, no build/ or
# egg-info of the working tree): a test run or an editor writing in the tree at the same
# time cannot change what is packaged or break the build.
SRCCOPY=$BUILD/src
rm -rf "$SRCCOPY" && mkdir -p "$SRCCOPY"
tar -C "$ROOT" --exclude=__pycache__ --exclude='*.pyc' -cf - \
    pyproject.toml README.md kiosk drivers ui offline_cache simulators | tar -C "$SRCCOPY" -xf -
"$STAGE$OPT/bin/pip" wheel -q --no-deps -w "$BUILD/wheel" "$SRCCOPY"
"$STAGE$OPT/bin/pip" install -q --no-compile "$BUILD"/wheel/*.whl
"$STAGE$OPT/bin/pip" uninstall -q -y pip
find "$STAGE$OPT" -name __pycache__ -prune -exec rm -rf {} +
{ grep -rlI --null "$STAGE$OPT" "$STAGE$OPT/bin" "$STAGE$OPT/pyvenv.cfg" || [ $? -eq 1 ]; } \
    | xargs -0 -r sed -i "s#$STAGE$OPT#$OPT#g"
ln -sfn "$PYTHON" "$STAGE$OPT/bin/python3"
ln -sfn python3 "$STAGE$OPT/bin/python"

# commands on PATH, units, udev rules, the example config (a conffile), the docs
install -d "$STAGE/usr/bin" "$STAGE/lib/systemd/system" "$STAGE/lib/udev/rules.d" \
    "$STAGE/etc/$PKG" "$STAGE/usr/share/doc/$PKG"
ln -s "$OPT/bin/cccd-kiosk" "$STAGE/usr/bin/cccd-kiosk"
ln -s "$OPT/bin/cccd-sim" "$STAGE/usr/bin/cccd-sim"
install -m 0644 "$SRC"/systemd/* "$STAGE/lib/systemd/system/"
install -m 0644 "$SRC"/udev/*.rules "$STAGE/lib/udev/rules.d/"
install -m 0644 "$SRC/kiosk.toml" "$STAGE/etc/$PKG/kiosk.toml"
install -m 0644 "$ROOT/README.md" "$STAGE/usr/share/doc/$PKG/README.md"
install -m 0755 "$SRC"/maint/{postinst,prerm,postrm} "$STAGE/DEBIAN/"
echo "/etc/$PKG/kiosk.toml" >"$STAGE/DEBIAN/conffiles"

SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: $PKG
Version: $VERSION
Architecture: $ARCH
Maintainer: cccd-kiosk maintainers <kiosk@localhost>
Installed-Size: $SIZE
Depends: python$PYVER, python3 (>= 3.11), adduser, pcscd, libpcsclite1, libusb-1.0-0,
 fonts-dejavu-core, libegl1, libgl1, libfontconfig1, libdbus-1-3, libxkbcommon0,
 libwayland-client0, libwayland-cursor0, libwayland-egl1, libxkbcommon-x11-0,
 libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0,
 libxcb-render-util0, libxcb-shape0, libxcb-xinerama0, libxcb-xkb1
Recommends: cage
Section: misc
Priority: optional
Description: clinic check-in kiosk for Vietnamese chip ID cards (CCCD)
 Reads CCCD chip cards (ICAO 9303), verifies them, checks health insurance
 (BHYT) with BHXH and prints a queue ticket; a Qt kiosk under cage on tty1.
CONTROL

dpkg-deb --root-owner-group -Zxz -z1 --build "$STAGE" "$OUT" >/dev/null
echo "$OUT"
