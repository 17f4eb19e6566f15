#!/usr/bin/env bash
# The stylesheets the CSS rule check must never report (tests/test_cssrules.py, slow; bench/css_rules.py):
# Bootstrap, Bulma, Font Awesome, Foundation, KaTeX, Leaflet, animate.css from npm, and Tailwind's
# output for the classes in fixtures/css-libraries/tailwind-content.html, into DIR (default
# /tmp/assetbuild-css-libraries). Without npm or the network it says so and exits 0: the test skips.
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-/tmp/assetbuild-css-libraries}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! command -v npm >/dev/null 2>&1; then
    echo "css-libraries: no npm; the library test will be skipped" >&2
    exit 0
fi
cd "$work" || exit 0
if ! timeout 600 npm install --no-audit --no-fund --silent bootstrap@5 bulma@1 \
        @fortawesome/fontawesome-free@6 foundation-sites@6 katex leaflet animate.css tailwindcss@3 >npm.log 2>&1; then
    echo "css-libraries: npm install failed (network?); the library test will be skipped" >&2
    tail -5 npm.log >&2
    exit 0
fi
printf '@tailwind base;\n@tailwind components;\n@tailwind utilities;\n' > input.css
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp/tailwindcss-output"
for p in bootstrap bulma @fortawesome foundation-sites katex leaflet animate.css; do
    cp -r "node_modules/$p" "$dest.tmp/"
done
if ! npx --no-install tailwindcss -i input.css -o "$dest.tmp/tailwindcss-output/tailwind.css" \
        --content "$repo/fixtures/css-libraries/tailwind-content.html" >tw.log 2>&1; then
    echo "css-libraries: tailwindcss failed" >&2
    tail -5 tw.log >&2
fi
rm -rf "$dest" && mv "$dest.tmp" "$dest"
