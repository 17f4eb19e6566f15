<?php
// assetbuild's PHP helpers: tags for the bundles in the manifest.php that `assetbuild install`
// writes with manifest_format = "php". Copy this file into your project (it is the same in every
// release of the format) and:
//
//   require_once 'assetbuild.php';
//   $assets = require 'static/manifest.php';
//   echo assetbuild_tag($assets, 'js/alpine.js', ['defer' => true, 'nonce' => $nonce]);
//   echo assetbuild_preload($assets, 'css/main.css');
//   echo assetbuild_integrity($assets, 'js/main.js');
//
// Attributes: true gives a boolean attribute (defer), a string or number a valued one (media,
// type, nonce), false or null none. Every value is escaped.

if (!function_exists('assetbuild_entry')) {
    function assetbuild_entry(array $assets, string $name): array
    {
        if (!isset($assets['bundles'][$name]) || !is_array($assets['bundles'][$name])) {
            throw new InvalidArgumentException("assetbuild: no bundle named '$name' in the manifest");
        }
        return $assets['bundles'][$name];
    }

    function assetbuild_kind(string $name): string
    {
        $ext = strtolower(pathinfo($name, PATHINFO_EXTENSION));
        if (!in_array($ext, ['js', 'mjs', 'css'], true)) {
            throw new InvalidArgumentException("assetbuild: no HTML tag for '$name' (only .js, .mjs and .css)");
        }
        return $ext;
    }

    function assetbuild_attributes(array $base, array $extra, array $fixed): string
    {
        foreach ($extra as $key => $value) {
            $key = strtolower((string) $key);
            if (!preg_match('/^[a-z][a-z0-9_:.-]*$/', $key)) {
                throw new InvalidArgumentException("assetbuild: not an HTML attribute name: '$key'");
            }
            if (in_array($key, $fixed, true)) {
                throw new InvalidArgumentException("assetbuild: '$key' is set from the manifest");
            }
            if ($key === 'type') {
                unset($base['type']);
            }
            if ($value === null || $value === false) {
                unset($base[$key]);
                continue;
            }
            $base[$key] = $value;
        }
        $parts = [];
        foreach ($base as $key => $value) {
            $parts[] = $value === true
                ? $key
                : $key . '="' . htmlspecialchars((string) $value, ENT_QUOTES | ENT_HTML5, 'UTF-8') . '"';
        }
        return implode(' ', $parts);
    }

    function assetbuild_tag(array $assets, string $name, array $attributes = []): string
    {
        $entry = assetbuild_entry($assets, $name);
        $kind = assetbuild_kind($name);
        if ($kind === 'css') {
            $base = ['rel' => 'stylesheet', 'href' => $entry['url']];
        } else {
            $base = $kind === 'mjs' ? ['type' => 'module'] : [];
            $base['src'] = $entry['url'];
        }
        $base['integrity'] = $entry['integrity'];
        $base['crossorigin'] = 'anonymous';
        $body = assetbuild_attributes($base, $attributes, ['src', 'href', 'integrity', 'rel']);
        return $kind === 'css' ? "<link $body>" : "<script $body></script>";
    }

    function assetbuild_preload(array $assets, string $name, array $attributes = []): string
    {
        $entry = assetbuild_entry($assets, $name);
        $kind = assetbuild_kind($name);
        $base = ['rel' => $kind === 'mjs' ? 'modulepreload' : 'preload', 'href' => $entry['url']];
        if ($kind !== 'mjs') {
            $base['as'] = $kind === 'css' ? 'style' : 'script';
        }
        $base['integrity'] = $entry['integrity'];
        $base['crossorigin'] = 'anonymous';
        return '<link ' . assetbuild_attributes($base, $attributes, ['href', 'rel', 'as', 'integrity']) . '>';
    }

    function assetbuild_integrity(array $assets, string $name): string
    {
        return assetbuild_entry($assets, $name)['integrity'];
    }
}
