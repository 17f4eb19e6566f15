// Resolve every token of a bundle through its map with a consumer no one here wrote:
// @jridgewell/trace-mapping (what Vite, Rollup and Babel use). Tokens come from acorn.
// Usage: node trace_tokens.js NODE_MODULES ACORN BUNDLE MAP
// Prints JSON: {tokens, exact, elsewhere, unmapped: [...], wrong: [...]}.
"use strict";
const fs = require("fs");
const path = require("path");
const [nodeModules, acornPath, bundlePath, mapPath] = process.argv.slice(2);
const tm = require(path.join(nodeModules, "@jridgewell/trace-mapping"));
const acorn = require(acornPath);

const bundle = fs.readFileSync(bundlePath, "utf8");
const raw = JSON.parse(fs.readFileSync(mapPath, "utf8"));
const map = new tm.TraceMap(raw, "http://example.test/" + path.basename(mapPath));
const starts = new Set();
tm.eachMapping(map, (m) => { if (m.source !== null) starts.add(m.generatedLine + ":" + m.generatedColumn); });

const contents = new Map();
function lineStarts(text) {
  const out = [0];
  const re = /\r\n|[\n\r\u2028\u2029]/g;
  let m;
  while ((m = re.exec(text)) !== null) out.push(m.index + m[0].length);
  return out;
}
function offsetOf(source, line, column) {
  let entry = contents.get(source);
  if (entry === undefined) {
    const text = tm.sourceContentFor(map, source);
    entry = text === null ? null : { text, starts: lineStarts(text) };
    contents.set(source, entry);
  }
  if (entry === null || line - 1 >= entry.starts.length) return null;
  return { text: entry.text, at: entry.starts[line - 1] + column };
}

const skip = new Set([acorn.tokTypes.template, acorn.tokTypes.invalidTemplate,
  acorn.tokTypes.dollarBraceL, acorn.tokTypes.backQuote]);
const result = { tokens: 0, exact: 0, elsewhere: 0, unmapped: [], wrong: [], sources: {} };
let prevTemplateEnd = false;
for (const t of acorn.tokenizer(bundle, { ecmaVersion: "latest", locations: true, allowHashBang: true })) {
  if (skip.has(t.type)) continue;
  result.tokens++;
  const line = t.loc.start.line, column = t.loc.start.column;
  const text = bundle.slice(t.start, t.end);
  const found = tm.originalPositionFor(map, { line, column });
  if (found.source === null || !starts.has(line + ":" + column)) {
    if (result.unmapped.length < 5) result.unmapped.push({ line, column, text: text.slice(0, 40) });
    continue;
  }
  const key = found.source.replace(/^http:\/\/example\.test\//, "");
  result.sources[key] = (result.sources[key] || 0) + 1;
  const place = offsetOf(found.source, found.line, found.column);
  if (place === null || place.at > place.text.length) {
    result.wrong.push({ line, column, text: text.slice(0, 40), source: key, why: "outside" });
  } else if (place.text.startsWith(text, place.at)) {
    result.exact++;
  } else {
    result.elsewhere++;
    if (result.wrong.length < 5 && !key.includes("/src/") ) {
      result.wrong.push({ line, column, text: text.slice(0, 40), source: key,
        found: place.text.slice(place.at, place.at + 40) });
    }
  }
}
process.stdout.write(JSON.stringify(result));
