#!/usr/bin/env bash
# The release's publish step: every platform package of npm/ (each with its binary), then
# sd-notify-rs, at package.json's version, with the platform packages as the published
# optionalDependencies. release.yml's publish job runs it with --provenance against npmjs.org;
# `npm run release:rehearse` runs it, unchanged, against a private registry
# (npm_config_registry). Extra arguments go to every `npm publish`.
set -euo pipefail
cd "$(dirname "$0")/.."
FLAGS=("$@")
node scripts/sync-platform-packages.js --check --require-binaries
# The committed package.json has no optionalDependencies (npm ci could not lock packages that are
# not published yet): the published one lists every platform package.
node scripts/sync-platform-packages.js --publish
node scripts/sync-platform-packages.js --check --publish
version=$(node -p 'require("./package.json").version')
case "$version" in *-*) tag=next ;; *) tag=latest ;; esac
publish() {
  local name
  name=$(node -p "require('./$1/package.json').name")
  # A re-run after a partial failure skips what is already out.
  if [ -n "$(npm view "$name@$version" version 2>/dev/null)" ]; then echo "$name@$version is already out"; return; fi
  npm publish "./$1" --access public --tag "$tag" "${FLAGS[@]}"
}
for dir in npm/*; do publish "$dir"; done
publish .
