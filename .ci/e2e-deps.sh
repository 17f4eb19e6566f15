#!/usr/bin/env bash
# Install the Debian packages the end-to-end tests need: nginx, headless Chromium and its driver, make,
# and php-cli (to check that manifest.php is valid PHP).
#
# nginx, not lighttpd: the tests check that the precompressed `main.js.gz` files assetbuild writes are the
# bytes served to a client that accepts gzip. nginx's `gzip_static on;` does exactly that; lighttpd's
# mod_deflate compresses on the fly and caches its own output (`deflate.cache-dir`), it does not serve
# our pre-made `.gz` files.
#
# Idempotent and quiet: does nothing when the binaries are already there; runs `apt-get update` at most once.
set -euo pipefail

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
command -v make >/dev/null 2>&1 || need+=(make)
command -v php >/dev/null 2>&1 || need+=(php-cli)

if [ "${#need[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        echo "e2e-deps: missing ${need[*]} and not root; the e2e tests will be skipped" >&2
        exit 0
    fi
else
    SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive

# Keep the package scripts from starting a system nginx on port 80: the tests start their own.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    made_policy=1
fi
cleanup() {
    if [ "$made_policy" -eq 1 ]; then
        "${SUDO[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT

echo "e2e-deps: installing ${need[*]}" >&2
log="$(mktemp)"
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
