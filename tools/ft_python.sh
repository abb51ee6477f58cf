#!/usr/bin/env bash
# Obtain a free-threaded CPython 3.13 (3.13.5t) and print its interpreter path.
#
# No registry ships a free-threaded CPython binary, so this builds one with
# pyenv from the CPython source tarball, which it takes from Debian trixie's
# python3.13 source package through the machine's own Debian mirror and
# keyring (its .orig.tar.xz is byte-identical to python.org's
# Python-3.13.5.tar.xz; pyenv checks the sha256 it pins).  The build runs
# offline and is cached under ~/.cache/wasmtime-native/ft/, so only the first
# call is slow (about 10 minutes on 2 cores).  Idempotent: a later call only
# prints the path.
#
#   tools/ft_python.sh [--fetch-only]   (--fetch-only: get the source tarball, print its path)
#
# Environment: WASMTIME_NATIVE_FT_CACHE overrides the cache directory.
set -euo pipefail
FETCH_ONLY=0
[ "${1:-}" = "--fetch-only" ] && FETCH_ONLY=1
VERSION=3.13.5
CACHE=${WASMTIME_NATIVE_FT_CACHE:-$HOME/.cache/wasmtime-native/ft}
PREFIX=$CACHE/python-${VERSION}t
PYBIN=$PREFIX/bin/python3.13t
log() { printf '== %s\n' "$*" >&2; }

if [ $FETCH_ONLY = 0 ] && [ -x "$PYBIN" ] && "$PYBIN" -c 'import sys; assert not sys._is_gil_enabled()' 2>/dev/null; then
    echo "$PYBIN"; exit 0
fi
command -v pyenv >/dev/null || { echo "tools/ft_python.sh needs pyenv" >&2; exit 1; }
mkdir -p "$CACHE/src" "$CACHE/apt/lists/partial" "$CACHE/apt/archives/partial"
TARBALL=$CACHE/src/Python-$VERSION.tar.xz
if [ ! -s "$TARBALL" ]; then
    # The machine's own Debian source: URI and keyring, from deb822 or one-line form.
    uri="" key=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        u=$(awk '/^URIs:/{print $2; exit}' "$f")
        case "$u" in */debian) uri=$u; key=$(awk '/^Signed-By:/{print $2; exit}' "$f"); break;; esac
    done
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1=="deb" && $0 ~ /\/debian[ \/]/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || { echo "no Debian source found in /etc/apt" >&2; exit 1; }
    [ -n "$key" ] || key=/usr/share/keyrings/debian-archive-keyring.gpg
    list=$CACHE/apt/trixie-src.list
    echo "deb-src [signed-by=$key] $uri trixie main" > "$list"
    opts=(-o "Dir::Etc::sourcelist=$list" -o "Dir::Etc::sourceparts=-"
          -o "Dir::State::Lists=$CACHE/apt/lists" -o "Dir::Cache::Archives=$CACHE/apt/archives"
          -o "APT::Sandbox::User=root")
    log "fetching python$VERSION source from $uri (trixie main, deb-src)"
    apt-get -qq "${opts[@]}" update >&2
    work=$CACHE/apt/dl
    rm -rf "$work"; mkdir -p "$work"
    (cd "$work" && apt-get -qq "${opts[@]}" source --download-only python3.13 >&2)
    orig=$work/python3.13_$VERSION.orig.tar.xz
    [ -s "$orig" ] || { echo "trixie's python3.13 source is not $VERSION: $(ls "$work")" >&2; exit 1; }
    cp "$orig" "$TARBALL.tmp" && mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$work"
fi
if [ $FETCH_ONLY = 1 ]; then
    echo "$TARBALL"; exit 0
fi
log "building CPython ${VERSION}t with pyenv into $PREFIX (offline; about 10 minutes)"
t0=$SECONDS
# pyenv install checks the tarball against its pinned sha256.  Build into our own
# prefix so the cache is independent of the user's pyenv versions.
PYTHON_BUILD_CACHE_PATH=$CACHE/src PYTHON_BUILD_SKIP_HOMEBREW=1 \
    "$(pyenv root)/plugins/python-build/bin/python-build" "${VERSION}t" "$PREFIX" >&2 \
    || { rm -rf "$PREFIX"; exit 1; }
log "built CPython ${VERSION}t in $((SECONDS - t0)) s"
"$PYBIN" -c 'import sys; assert not sys._is_gil_enabled(), "GIL enabled"' >&2
echo "$PYBIN"
