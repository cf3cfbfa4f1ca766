#!/usr/bin/env bash
# npm test: builds the app (the e2e tests drive the built renderer), then runs every vitest suite. Where a
# D-Bus + GNOME Keyring can be started (Linux, CI) the keychain tests run against a real, throwaway Secret
# Service; elsewhere they are skipped with a warning, never silently (CI requires them).
set -euo pipefail
cd "$(dirname "$0")/.."
npx electron-vite build >/dev/null
if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  exec bash scripts/with-keyring.sh npx vitest run "$@"
fi
if [ "${CI:-}" = "true" ]; then
  echo "CI needs dbus-run-session and gnome-keyring-daemon for the keychain tests" >&2
  exit 1
fi
echo "warning: no dbus-run-session/gnome-keyring-daemon here: keychain tests skipped" >&2
HOMOPAI_SKIP_KEYCHAIN=1 exec npx vitest run "$@"
