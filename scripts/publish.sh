#!/usr/bin/env bash
# The release's publish step: every platform package of npm/ (each with its binary), then
# sd-notify-rs with them as its optionalDependencies, at package.json's version. release.yml's
# publish job runs it against npmjs.org with NPM_CONFIG_PROVENANCE=true; `npm run
# release:rehearse` runs it, unchanged, against a private registry (npm_config_registry).
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/sync-platform-packages.js --check
version=$(node -p 'require("./package.json").version')
case "$version" in *-*) tag=next ;; *) tag=latest ;; esac
export npm_config_tag=$tag npm_config_access=public
# napi pre-publish: refuses a platform package without its binary, publishes each (skipping one
# already published), then writes them into package.json as optionalDependencies (the committed
# package.json has none: npm ci could not lock packages that are not published yet).
npx napi pre-publish --tag-style npm --no-gh-release
node scripts/sync-platform-packages.js --check --publish
# A re-run after a partial failure skips what is already out.
if [ -n "$(npm view "sd-notify-rs@$version" version 2>/dev/null)" ]; then echo "sd-notify-rs@$version is already out"; exit 0; fi
npm publish
