#!/usr/bin/env bash
# Regenerates every icon from the SVG sources beside this script:
#   porthole.svg -> app icons (PNG sizes, .ico, .icns) listed in tauri.conf.json
#   tray-on.svg / tray-off.svg -> tray-on.png / tray-off.png (64 px; the panel scales)
# Needs ui/node_modules (npm ci in ui/), which provides the tauri CLI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tauri="$here/../ui/node_modules/.bin/tauri"
[ -x "$tauri" ] || { echo "generate.sh: $tauri not found: run 'npm ci' in ui/ first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$tauri" icon "$here/porthole.svg" -o "$tmp/app" >/dev/null 2>&1
for f in 32x32.png 64x64.png 128x128.png 128x128@2x.png icon.png icon.ico icon.icns; do
  cp "$tmp/app/$f" "$here/$f"
done

for state in on off; do
  "$tauri" icon "$here/tray-$state.svg" -o "$tmp/tray-$state" -p 64 >/dev/null 2>&1
  cp "$tmp/tray-$state/64x64.png" "$here/tray-$state.png"
done
echo "icons regenerated in $here"
