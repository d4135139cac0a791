#!/usr/bin/env bash
# Debian packages the local backend and its tests use: buildah (builds and runs containers
# without a daemon), docker-registry (a registry on loopback), busybox-static (the example
# image's only binary, so it builds with no network). Installs only what is missing.
set -euo pipefail

packages=(buildah docker-registry busybox-static git)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "install these packages with your package manager: ${missing[*]}" >&2
  exit 1
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
