#!/bin/sh
# Checks where the upload exporter's alerts go, in both Alertmanager configurations: every
# case in alertmanager_routes_test.txt must reach exactly its receiver (`amtool config
# routes test --verify.receivers`). `make test-endpoint` runs it.
set -eu
cd "$(dirname "$0")"
failed=0
for config in alertmanager.yml alertmanager-mute.yml; do
    grep -v -e '^#' -e '^[[:space:]]*$' alertmanager_routes_test.txt | while read -r receiver labels; do
        # $labels is split on purpose: one matcher per word.
        # shellcheck disable=SC2086
        if ! amtool config routes test --config.file="$config" --verify.receivers="$receiver" $labels </dev/null >/dev/null; then
            got=$(amtool config routes test --config.file="$config" $labels </dev/null || true)
            echo "FAIL $config: {$labels} should reach $receiver, reaches $got"
            exit 1
        fi
        echo "ok   $config: {$labels} reaches $receiver"
    done || failed=1
done
exit "$failed"
