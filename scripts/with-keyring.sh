#!/usr/bin/env bash
# Usage: scripts/with-keyring.sh CMD [ARG...]
#
# Runs CMD against a real, unlocked Secret Service (GNOME Keyring) on a private D-Bus session, so the
# keychain vault is tested through the same keytar/libsecret path a desktop uses, without touching the
# caller's own session or keyring. HOME and XDG_RUNTIME_DIR are throwaway directories, removed on exit;
# CMD's exit status is this script's exit status.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 64
fi
for tool in dbus-run-session gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$0: '$tool' not found; install the dbus and gnome-keyring packages" >&2
    exit 127
  fi
done

scratch_home="$(mktemp -d "${TMPDIR:-/tmp}/homopai-keyring-home.XXXXXX")"
scratch_runtime="$(mktemp -d "${TMPDIR:-/tmp}/homopai-keyring-run.XXXXXX")"
trap 'rm -rf -- "$scratch_home" "$scratch_runtime"' EXIT
# Signals must still reach the EXIT trap so a Ctrl-C'd run leaves no keyring files behind.
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 700 "$scratch_home" "$scratch_runtime"

# Anything pointing at the caller's session would let CMD reach (and write to) the real keyring.
unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL SSH_AUTH_SOCK XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME
export HOME="$scratch_home" XDG_RUNTIME_DIR="$scratch_runtime"

status=0
# The inner shell gets CMD as "$@", so arguments with spaces or quotes arrive intact. The daemon creates
# and unlocks a "login" keyring with the password on stdin; it is the default collection keytar writes to.
# The daemon forks away from us and would outlive the bus by seconds, writing into a HOME we are about to
# delete, so its pid is asked of the bus and it is stopped before the session ends.
dbus-run-session -- sh -c '
  if ! echo homopai-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null; then
    echo "with-keyring.sh: gnome-keyring-daemon failed to start" >&2
    exit 70
  fi
  # The daemon returns before it has claimed its bus name; until it has, a client would D-Bus-activate a
  # second, locked daemon. Asking the bus (not the name) for the owner pid does not activate anything.
  keyring_pid=""
  i=0
  while [ -z "$keyring_pid" ] && [ "$i" -lt 100 ]; do
    keyring_pid=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null | awk "{ print \$NF }")
    [ -n "$keyring_pid" ] || sleep 0.1
    i=$((i + 1))
  done
  if [ -z "$keyring_pid" ]; then
    echo "with-keyring.sh: gnome-keyring-daemon did not claim org.freedesktop.secrets within 10 s" >&2
    exit 70
  fi
  # A Ctrl-C reaches the whole process group; outliving it (a handler, not an ignore, which CMD would
  # inherit) lets this shell still stop the daemon.
  trap : INT TERM
  status=0
  "$@" || status=$?
  kill "$keyring_pid" 2>/dev/null
  # Up to 5 s; a zombie (state Z) has already let go of its files.
  i=0
  while [ "$i" -lt 50 ]; do
    case "$(ps -o stat= -p "$keyring_pid" 2>/dev/null)" in "" | Z*) break ;; esac
    sleep 0.1
    i=$((i + 1))
  done
  exit "$status"
' sh "$@" || status=$?
exit "$status"
