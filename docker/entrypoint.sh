#!/bin/sh
# Migrate the database, then replace this shell with `trends run` (exec), so that the bot itself
# receives Docker's SIGTERM and stops cleanly with exit code 0.
set -eu
trends db upgrade
exec trends run "$@"
