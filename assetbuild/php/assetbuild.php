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
// ES modules (a [[modules]] tree):
//
//   echo assetbuild_importmap($assets, ['nonce' => $nonce]);   // <script type="importmap">
//   echo assetbuild_modulepreload($assets, 'js/app/main.js');   // its static imports
//   echo assetbuild_module_tag($assets, 'js/app/main.js');      // <script type="module" ...>
//   header("Content-Security-Policy: script-src 'self' '" . assetbuild_importmap_csp($assets) . "'");
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

    // Python's html.escape(value, quote=True), byte for byte, so every helper emits the same HTML.
    function assetbuild_escape(string $value): string
    {
        return strtr($value, ['&' => '&amp;', '<' => '&lt;', '>' => '&gt;', '"' => '&quot;', "'" => '&#x27;']);
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
                : $key . '="' . assetbuild_escape((string) $value) . '"';
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

    function assetbuild_module(array $assets, string $name): array
    {
        $modules = isset($assets['modules']) && is_array($assets['modules']) ? $assets['modules'] : null;
        if ($modules === null) {
            $modules = [];
            foreach ($assets['bundles'] ?? [] as $key => $entry) {
                if (is_array($entry) && isset($entry['imports']) && is_array($entry['imports'])) {
                    $modules[$key] = $entry;
                }
            }
        }
        $entry = $modules[$name] ?? null;
        if (!is_array($entry)) {
            throw new InvalidArgumentException("assetbuild: no module named '$name' in the manifest");
        }
        if (!is_string($entry['url'] ?? null) || !is_string($entry['integrity'] ?? null)
            || !is_array($entry['imports'] ?? null)) {
            throw new UnexpectedValueException("assetbuild: bad module entry for '$name' in the manifest");
        }
        return $entry;
    }

    function assetbuild_is_json(string $name): bool
    {
        return strtolower(substr($name, -5)) === '.json';
    }

    function assetbuild_module_tag(array $assets, string $name, array $attributes = []): string
    {
        if (assetbuild_is_json($name)) {
            throw new InvalidArgumentException("assetbuild: '$name' is a JSON module, not a script");
        }
        $entry = assetbuild_module($assets, $name);
        $base = ['type' => 'module', 'src' => $entry['url'], 'integrity' => $entry['integrity'],
            'crossorigin' => 'anonymous'];
        // 'type' is fixed here: assetbuild_attributes would otherwise let it replace the base's.
        return '<script ' . assetbuild_attributes($base, $attributes, ['type', 'src', 'integrity']) . '></script>';
    }

    function assetbuild_modulepreload(array $assets, string $name, array $attributes = []): string
    {
        $links = [];
        foreach (assetbuild_module($assets, $name)['imports'] as $imported) {
            if (!is_string($imported)) {
                throw new UnexpectedValueException("assetbuild: bad module entry for '$name' in the manifest");
            }
            if (assetbuild_is_json($imported)) {
                continue; // a JSON module is not a script: modulepreload would fetch it as one
            }
            $entry = assetbuild_module($assets, $imported);
            $base = ['rel' => 'modulepreload', 'href' => $entry['url'], 'integrity' => $entry['integrity'],
                'crossorigin' => 'anonymous'];
            $links[] = '<link ' . assetbuild_attributes($base, $attributes, ['rel', 'href', 'as', 'integrity']) . '>';
        }
        return implode("\n", $links);
    }

    // The import map's text exactly as assetbuild writes it (Python's json.dumps with sorted keys,
    // compact separators and non-ASCII kept, then "<" as \u003c): the text importmap_csp hashes.
    function assetbuild_json_text($value, int $depth = 0): string
    {
        if (is_string($value) && $depth > 0) {
            if (!preg_match('//u', $value)) {
                throw new UnexpectedValueException('assetbuild: the import map holds a string that is not UTF-8');
            }
            $text = strtr($value, ['\\' => '\\\\', '"' => '\\"', "\n" => '\\n', "\r" => '\\r', "\t" => '\\t',
                "\x08" => '\\b', "\x0c" => '\\f', '<' => '\\u003c']);
            $text = preg_replace_callback('/[\x00-\x1f]/', fn ($m) => sprintf('\\u%04x', ord($m[0])), $text);
            return '"' . $text . '"';
        }
        if (!is_array($value) || $depth >= 3) {
            throw new UnexpectedValueException('assetbuild: the manifest\'s importmap is not objects of strings');
        }
        ksort($value, SORT_STRING);
        $parts = [];
        foreach ($value as $key => $item) {
            $parts[] = assetbuild_json_text((string) $key, 1) . ':' . assetbuild_json_text($item, $depth + 1);
        }
        return '{' . implode(',', $parts) . '}';
    }

    function assetbuild_importmap_text(array $assets): string
    {
        if (!isset($assets['importmap'])) {
            throw new InvalidArgumentException('assetbuild: the manifest holds no import map (no [[modules]] tree was installed)');
        }
        $text = assetbuild_json_text($assets['importmap']);
        if (($assets['importmap_csp'] ?? null) !== 'sha256-' . base64_encode(hash('sha256', $text, true))) {
            throw new UnexpectedValueException("assetbuild: the manifest's importmap_csp is not the hash of its import map");
        }
        return $text;
    }

    function assetbuild_importmap(array $assets, array $attributes = []): string
    {
        $text = assetbuild_importmap_text($assets);
        return '<script ' . assetbuild_attributes(['type' => 'importmap'], $attributes, ['type', 'src']) . '>' . $text . '</script>';
    }

    function assetbuild_importmap_csp(array $assets): string
    {
        return 'sha256-' . base64_encode(hash('sha256', assetbuild_importmap_text($assets), true));
    }
}
