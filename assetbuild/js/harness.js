
(function (acorn, meriyah) {
  "use strict";
  // Scripts as browsers take them (Annex B), with every early error (`lexical`: scopes, labels,
  // private names), and offsets on each node; acorn makes the safe minifier's tokens.
  var MERIYAH = {ranges: {start: true, end: true}, webcompat: true, lexical: true};
  // A text parsed only to be compared (positions are not compared): no offsets, ~10% faster.
  var BARE = {webcompat: true, lexical: true};
  // meriyah copies a few nodes with structuredClone, which V8 alone (without a browser or Node)
  // lacks: plain objects of strings, numbers and booleans.
  if (typeof structuredClone === "undefined") {
    globalThis.structuredClone = function clone(value) {
      if (value === null || typeof value !== "object") return value;
      if (Array.isArray(value)) return value.map(clone);
      var copy = {};
      for (var key in value) copy[key] = clone(value[key]);
      return copy;
    };
  }
  var MODULE = {ecmaVersion: "latest", sourceType: "module", allowHashBang: true};
  var SKIP = {start: 1, end: 1, loc: 1, range: 1};
  // Trees of the scripts last checked, by text: their minified texts are compared with them next,
  // so each source is parsed once. A tree is dropped once its comparison proves the pair the same,
  // and all of them when the next check begins, so an idle isolate holds at most the trees of its
  // last batch whose candidates failed.
  var held = new Map();
  // Tokens of the scripts last checked whose maps are made next (`mapAll`), by text: (start, end)
  // flat, as `mapTokens` makes them, heard from the check's own parse, so acorn need not tokenize
  // those texts again. Dropped once used, and all of them when the next check begins.
  var heldTokens = new Map();

  function parseScript(text) {
    var tree = held.get(text);
    return tree !== undefined ? tree : parseTree(text, null, null, true);
  }

  // A classic script's tree (meriyah's: 1.6-2x faster than acorn's on the same texts);
  // `onComment(block, body, start, end)` hears every comment; `tokens` (an array, or null) gets
  // the tokens' (start, end), flat, as `mapTokens` makes them.
  function parseTree(text, onComment, tokens, bare) {
    var options = bare ? BARE : MERIYAH;
    if (onComment !== null || tokens !== null) {
      options = {ranges: MERIYAH.ranges, webcompat: true, lexical: true};
      if (onComment !== null) {
        options.onComment = function (type, body, start, end) { onComment(type === "MultiLine", body, start, end); };
      }
      if (tokens !== null) options.onToken = tokenSink(text, tokens);
    }
    var tree = meriyah.parseScript(text, options);
    callTargets(tree);
    return tree;
  }

  // meriyah's tokens in acorn's pieces (`mapTokens`): a template's parts are single tokens in both
  // (meriyah replaces a `}` with the template part it opens), a private name is one token in acorn
  // and two in meriyah (`#`, then the name right after it): joined here. `mapPairs` proves that
  // the tokens tile the text before it uses them.
  function tokenSink(text, out) {
    var hash = -1;  // the start of a `#` waiting for its name
    return function (kind, start, end) {
      if (hash >= 0) {
        if (start === hash + 1) start = hash;
        else out.push(hash, hash + 1);
        hash = -1;
      }
      if (end === start + 1 && text.charCodeAt(start) === 35) { hash = start; return; }
      out.push(start, end);
    };
  }

  // meriyah (web-compatible) accepts a call as an assignment target (`f() = 1`: a ReferenceError
  // when it runs, and V8 compiles it); acorn and test262 reject it early.
  function callTargets(tree) {
    var stack = [tree];
    while (stack.length) {
      var node = stack.pop(), target = null, t = node.type;
      if (t === "AssignmentExpression" || t === "ForInStatement" || t === "ForOfStatement") target = node.left;
      else if (t === "UpdateExpression") target = node.argument;
      if (target !== null && target.type === "CallExpression") {
        var e = new SyntaxError("Invalid left-hand side in assignment");
        e.pos = target.start;
        throw e;
      }
      for (var k in node) {
        var v = node[k];
        if (v === null || typeof v !== "object") continue;
        if (Array.isArray(v)) {
          for (var i = v.length - 1; i >= 0; i--) if (v[i] !== null && typeof v[i].type === "string") stack.push(v[i]);
        } else if (typeof v.type === "string") stack.push(v);
      }
    }
  }

  // A batch arrives as one string and the lengths of its parts (UTF-16 units, comma-separated):
  // one call into the isolate for a batch, where each call costs a hop through mini-racer's thread.
  function split(joined, lengths) {
    var parts = [], at = 0, sizes = lengths === "" ? [] : lengths.split(",");
    for (var i = 0; i < sizes.length; i++) {
      var n = +sizes[i];
      parts.push(joined.slice(at, at + n));
      at += n;
    }
    return parts;
  }

  function isLicense(block, body) {
    return (block && body.charAt(0) === "!") || body.indexOf("@license") >= 0 ||
      body.indexOf("@preserve") >= 0;
  }

  function compile(text) {
    // A hashbang is legal only at the start of a script; blank it, keeping offsets.
    if (text.charCodeAt(0) === 35 && text.charCodeAt(1) === 33) text = "//" + text.slice(2);
    new Function(text);  // compiles, never calls
  }

  function limited(e) {
    // A parser may turn a stack overflow into a SyntaxError; it is a limit, not a verdict.
    return !(e instanceof SyntaxError) || /stack space|call stack|too much recursion/i.test(e.message);
  }

  function rejected(e) {
    if (limited(e)) return "limit\u0000-1\u0000" + e;
    if (e.description !== undefined) return "syntax\u0000" + e.start + "\u0000" + e.description;  // meriyah
    return "syntax\u0000" + e.pos + "\u0000" + e.message.replace(/ \(\d+:\d+\)$/, "");
  }

  function uncompiled(text) {
    try {
      compile(text);
    } catch (e) {
      if (!(e instanceof SyntaxError)) return "limit\u0000-1\u0000" + e;
      return "compile\u0000-1\u0000" + e.message;
    }
    return null;
  }

  // The verdict on a text as a classic script (or module): null when accepted, with its tree.
  // `options` may add an onComment callback.
  function verdict(text, module, onComment, tokens) {
    var tree;
    try {
      tree = module ? acorn.parse(text, MODULE) : parseTree(text, onComment, tokens, false);
    } catch (e) {
      return [rejected(e), null];
    }
    if (module) return [null, tree];
    return [uncompiled(text), tree];
  }

  function check(text, module) {
    held.clear();
    heldTokens.clear();
    var answer = verdict(text, module, null, null);
    if (!module && answer[0] === null) held.set(text, answer[1]);
    return answer[0];
  }

  function same(x, y) {
    if (x === y) return true;
    if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
    var list = Array.isArray(x);
    if (list !== Array.isArray(y)) return false;
    if (list) {
      if (x.length !== y.length) return false;
      for (var i = 0; i < x.length; i++) if (!same(x[i], y[i])) return false;
      return true;
    }
    if (x.type !== y.type) return false;
    var literal = x.type === "Literal", keys = 0, k;
    for (k in x) {
      if (SKIP[k] === 1 || literal && (k === "raw" || k === "value")) continue;
      keys++;
      if (!Object.prototype.hasOwnProperty.call(y, k) || !same(x[k], y[k])) return false;
    }
    for (k in y) if (!(SKIP[k] === 1 || literal && (k === "raw" || k === "value"))) keys--;
    if (keys !== 0) return false;
    // RegExp and BigInt literals are compared through their `regex` and `bigint` fields.
    return !literal || x.regex !== undefined || x.bigint !== undefined || Object.is(x.value, y.value);
  }

  function sameProgram(a, b) {
    try {
      var left = parseScript(a);
      // Equal texts are the same program once one of them parses (and, below, compiles).
      if (a !== b && !same(left, parseTree(b, null, null, true))) return 0;
      compile(b);
      held.delete(a);  // proven: the tree is done with
      return 1;
    } catch (e) {
      return limited(e) ? -1 : 0;
    }
  }

  // Pairs (a, b, a, b, ...) as `split` reads them: one character a pair, "1" proven the same,
  // "0" not, "x" undecided (a limit of the engine).
  function sameAll(joined, lengths) {
    var texts = split(joined, lengths), out = "";
    for (var i = 0; i + 1 < texts.length; i += 2) {
      var answer = sameProgram(texts[i], texts[i + 1]);
      out += answer === 1 ? "1" : answer === 0 ? "0" : "x";
    }
    return out;
  }

  // Top-level bindings, the "use strict" prologue and license comments of an accepted script:
  // what assetbuild's bundle checks and minifier need, so that esprima need not parse it again.
  var CONTAINERS = {
    BlockStatement: ["body"], IfStatement: ["consequent", "alternate"],
    ForStatement: ["init", "body"], ForInStatement: ["left", "body"], ForOfStatement: ["left", "body"],
    WhileStatement: ["body"], DoWhileStatement: ["body"], LabeledStatement: ["body"],
    WithStatement: ["body"], TryStatement: ["block", "handler", "finalizer"], CatchClause: ["body"],
    SwitchStatement: ["cases"], SwitchCase: ["consequent"]
  };

  function names(pattern, kind, out) {
    var stack = [pattern];
    while (stack.length) {
      var node = stack.pop();
      if (!node) continue;
      if (node.type === "Identifier") out.push([node.name, kind, node.start]);
      else if (node.type === "ObjectPattern") {
        for (var i = node.properties.length - 1; i >= 0; i--) {
          var p = node.properties[i];
          stack.push(p.type === "RestElement" ? p.argument : p.value);
        }
      } else if (node.type === "ArrayPattern") {
        for (var j = node.elements.length - 1; j >= 0; j--) stack.push(node.elements[j]);
      } else if (node.type === "RestElement") stack.push(node.argument);
      else if (node.type === "AssignmentPattern") stack.push(node.left);
    }
  }

  // Each text's verdict string, or its facts. `keep` has a digit a text: its bit 1, the tree of an
  // accepted text is held for the comparisons that follow; its bit 2, its tokens for its map.
  function analyzeAll(joined, lengths, keep) {
    held.clear();
    heldTokens.clear();
    var texts = split(joined, lengths), answers = [];
    for (var i = 0; i < texts.length; i++) {
      var mark = keep.charCodeAt(i) - 48, tokens = mark & 2 ? [] : null;
      var answer = analyze(texts[i], tokens);
      if (answer[1] !== null) {
        if (mark & 1) held.set(texts[i], answer[1]);
        if (tokens !== null) heldTokens.set(texts[i], tokens);
      }
      answers.push(answer[0]);
    }
    return JSON.stringify(answers);
  }

  function analyze(text, tokens) {
    var licenses = [];
    var answer = verdict(text, false, function (block, body, start, end) {
      if (isLicense(block, body)) licenses.push([start, end]);
    }, tokens);
    if (answer[0] !== null) return [answer[0], null];
    var body = answer[1].body, bindings = [], strict = -1, i, s;
    for (i = 0; i < body.length; i++) {
      s = body[i];
      if (s.type !== "ExpressionStatement" || s.directive === undefined) break;
      if (s.directive === "use strict") { strict = s.start; break; }
    }
    for (i = 0; i < body.length; i++) {
      s = body[i];
      if (s.type === "VariableDeclaration" && s.kind !== "var") {
        for (var d = 0; d < s.declarations.length; d++) names(s.declarations[d].id, s.kind, bindings);
      } else if (s.type === "FunctionDeclaration" && s.id) bindings.push([s.id.name, "function", s.id.start]);
      else if (s.type === "ClassDeclaration" && s.id) bindings.push([s.id.name, "class", s.id.start]);
    }
    var stack = body.slice().reverse();
    while (stack.length) {
      var node = stack.pop();
      if (!node) continue;
      if (node.type === "VariableDeclaration") {
        if (node.kind === "var") {
          for (var k = 0; k < node.declarations.length; k++) names(node.declarations[k].id, "var", bindings);
        }
        continue;
      }
      var keys = CONTAINERS[node.type] || [];
      for (var m = keys.length - 1; m >= 0; m--) {
        var child = node[keys[m]];
        if (Array.isArray(child)) { for (var n = child.length - 1; n >= 0; n--) stack.push(child[n]); }
        else stack.push(child);
      }
    }
    return [{bindings: bindings, strict: strict, licenses: licenses}, answer[1]];
  }

  // Tokens for the safe minifier, in esprima's vocabulary: a template literal's pieces between
  // substitutions are single "Template" tokens, as esprima makes them. Flat: kind, start, end, ...
  // (license comments too; in the order acorn meets them, which is not always the text's).
  function pieces(text) {
    var tt = acorn.tokTypes, out = [], braces = [], tpl = -1;
    acorn.parse(text, {
      ecmaVersion: "latest", sourceType: "script", allowHashBang: true,
      onComment: function (block, body, start, end) {
        if (isLicense(block, body)) out.push(block ? "BlockComment" : "LineComment", start, end);
      },
      onToken: function (t) {
        var type = t.type;
        if (type === tt.eof) return;
        if (tpl >= 0) {
          if (type === tt.dollarBraceL) { out.push("Template", tpl, t.end); tpl = -1; braces.push(true); }
          else if (type === tt.backQuote) { out.push("Template", tpl, t.end); tpl = -1; }
          return;
        }
        if (type === tt.backQuote) { tpl = t.start; return; }
        if (type === tt.braceL || type === tt.dollarBraceL) braces.push(false);
        if (type === tt.braceR && braces.pop() === true) { tpl = t.start; return; }
        var kind = "Punctuator";
        if (type === tt.num) kind = "Numeric";
        else if (type === tt.regexp) kind = "RegularExpression";
        else if (type === tt.string) kind = "String";
        else if (type === tt.name || type === tt.privateId) kind = "Identifier";
        else if (type.keyword) kind = "Keyword";
        out.push(kind, t.start, t.end);
      }
    });
    return out;
  }

  function tokens(text) {
    return JSON.stringify(pieces(text));
  }

  // The safe minifier's output: assetbuild/js/safe.py's `emit` over these tokens, the same bytes
  // (tests hold the two to it), without sending a million tokens to Python and back. Each text's
  // output, or null when acorn cannot tokenize it.
  function safeAll(joined, lengths) {
    var texts = split(joined, lengths), out = [];
    for (var i = 0; i < texts.length; i++) {
      var flat;
      try {
        flat = pieces(texts[i]);
      } catch (e) {
        out.push(null);
        continue;
      }
      out.push(emit(texts[i], flat));
    }
    return JSON.stringify(out);
  }

  // safe.py's _ALL and _FREE_BEFORE (tests compare them).
  var PUNCTUATORS = ("{ } ( ) [ ] . ... ; , < > <= >= == != === !== + - * / % ** ++ -- << >> >>> " +
    "& | ^ ! ~ && || ?? ? ?. : = += -= *= /= %= **= <<= >>= >>>= &= |= ^= &&= ||= ??= => #").split(" ");
  var FREE_BEFORE = (") ] } ; , . ?. : ? = += -= *= %= **= <<= >>= >>>= &= |= ^= &&= ||= ??= " +
    "== != === !== < > <= >= && || ?? % & | ^ << >> >>>").split(" ");
  var PREFIXES = new Set(), BREAK_FREE_AFTER = new Set(), BREAK_FREE_BEFORE = new Set(FREE_BEFORE);
  PUNCTUATORS.forEach(function (p) {
    for (var n = 1; n <= p.length; n++) PREFIXES.add(p.slice(0, n));
    if (p !== ")" && p !== "]" && p !== "}" && p !== "++" && p !== "--") BREAK_FREE_AFTER.add(p);
  });
  var LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

  function emit(text, flat) {
    var order = [], i;
    for (i = 0; i < flat.length; i += 3) order.push(i);
    order.sort(function (a, b) { return flat[a + 1] - flat[b + 1]; });  // stable, as Python's
    var out = [], prevKind = null, prevText = "", position = 0, hashbang = hashbangEnd(text);
    if (hashbang) {
      prevText = text.slice(0, hashbang);
      out.push(prevText);
      prevKind = "LineComment";
      position = hashbang;
    }
    for (var k = 0; k < order.length; k++) {
      var at = order[k], kind = flat[at], start = flat[at + 1], end = flat[at + 2];
      if (start < position) continue;  // the hashbang, already emitted
      var piece = text.slice(start, end);
      if (prevKind !== null) out.push(separator(prevKind, prevText, kind, piece, text.slice(position, start)));
      out.push(piece);
      prevKind = kind;
      prevText = piece;
      position = end;
    }
    return out.join("");
  }

  function hashbangEnd(text) {
    if (text.charCodeAt(0) !== 35 || text.charCodeAt(1) !== 33) return 0;
    var found = LINE_TERMINATOR.exec(text);
    return found === null ? text.length : found.index;
  }

  function isComment(kind) {
    return kind === "LineComment" || kind === "BlockComment";
  }

  function separator(prevKind, prevText, kind, text, gap) {
    if (prevKind === "LineComment") return "\n";
    if (gap !== "" && gap !== " " && LINE_TERMINATOR.test(gap) && !breakIsFree(prevKind, prevText, kind, text)) {
      return "\n";
    }
    return needsSpace(prevKind, prevText, kind, text) ? " " : "";
  }

  function breakIsFree(prevKind, prevText, kind, text) {
    if (isComment(prevKind) || isComment(kind)) return false;
    if (prevKind === "Punctuator" && BREAK_FREE_AFTER.has(prevText)) return true;
    if (prevKind === "Template" && prevText.endsWith("${")) return true;
    if (kind === "Punctuator" && BREAK_FREE_BEFORE.has(text)) return true;
    return kind === "Template" && text.charCodeAt(0) === 125;  // "}"
  }

  // What may continue an identifier, a number or a regex's flags: ASCII letters and digits, `$`,
  // `_`, a backslash and every non-ASCII character (a UTF-16 unit above 0x7f, surrogates included).
  function word(c) {
    return c > 0x7f || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ||
      c === 36 || c === 95 || c === 92;
  }

  function needsSpace(prevKind, prevText, kind, text) {
    var left = prevText.charCodeAt(prevText.length - 1), right = text.charCodeAt(0);
    var rightWord = word(right);
    if (word(left) && (rightWord || right === 35)) return true;  // "#"
    if (prevKind === "Numeric" && (rightWord || right === 46)) return true;  // "."
    if (prevKind === "RegularExpression" && rightWord) return true;  // would read as flags
    if (left === 46 && right >= 48 && right <= 57) return true;  // "." then a digit
    if (left === 47 && (right === 47 || right === 42)) return true;  // would open a comment
    if (left === 60 && right === 33) return true;  // `<!--` opens an HTML-like comment
    if (right === 62 && prevText.endsWith("--")) return true;  // `-->` at a line start too
    return prevKind === "Punctuator" && PREFIXES.has(prevText + text.charAt(0));
  }

  // --- Source maps of scripts (assetbuild/maps/scripts.py): made where the tokens are ------------
  // The same mappings as maps/align.py's `mappings` and `encoded` (tests compare them on every
  // minifier path), then proven as maps/verify.py's `verify_file` proves them: the VLQ read back,
  // every position inside its text, every token's text at its source. Offsets are UTF-16 units
  // here, which are what a map's columns count. Any doubt answers null: Python makes that map.

  // Python's `\s` (str.isspace) and U+FEFF: what align.py's _GAP skips, with comments.
  function mapSpace(c) {
    return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c === 0x85 || c === 0xa0 ||
      c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
      c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
  }

  function mapBreak(c) {
    return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
  }

  // Where align.py's _GAP (whitespace, /* */ and // comments) that starts at `at` ends.
  function mapGap(text, at) {
    var n = text.length;
    while (at < n) {
      var c = text.charCodeAt(at);
      if (mapSpace(c)) { at++; continue; }
      if (c !== 47 || at + 1 >= n) return at;
      var d = text.charCodeAt(at + 1);
      if (d === 42) {
        var close = text.indexOf("*/", at + 2);
        if (close < 0) return at;
        at = close + 2;
      } else if (d === 47) {
        at += 2;
        while (at < n && !mapBreak(text.charCodeAt(at))) at++;
      } else return at;
    }
    return at;
  }

  // Line starts as maps/text.py's JS_BREAKS count them (CR LF is one break).
  function mapLines(text) {
    var starts = [0], n = text.length, at;
    if (text.indexOf("\r") < 0 && text.indexOf("\u2028") < 0 && text.indexOf("\u2029") < 0) {
      for (at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) starts.push(at + 1);
      return starts;
    }
    for (var i = 0; i < n; i++) {
      var c = text.charCodeAt(i);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      if (mapBreak(c)) starts.push(i + 1);
    }
    return starts;
  }

  function mapLineOf(starts, offset) {  // bisect_right(starts, offset) - 1
    var low = 0, high = starts.length;
    while (low < high) {
      var mid = (low + high) >> 1;
      if (starts[mid] <= offset) low = mid + 1; else high = mid;
    }
    return low - 1;
  }

  // text.py's LineIndex.offset: the offset of (line, column), or -1 outside the text or inside a
  // surrogate pair (mid-character).
  function mapOffset(text, starts, line, column) {
    if (line < 0 || line >= starts.length || column < 0) return -1;
    var at = starts[line] + column;
    var end = line + 1 < starts.length ? starts[line + 1] : text.length;
    if (at > end) return -1;
    var c = text.charCodeAt(at);
    if (c >= 0xdc00 && c <= 0xdfff && at > 0) {
      var b = text.charCodeAt(at - 1);
      if (b >= 0xd800 && b <= 0xdbff) return -1;
    }
    return at;
  }

  // (start, end) of each token `pieces` finds, comments left out, flat and in order.
  function mapTokens(text) {
    var tt = acorn.tokTypes, out = [], braces = [], tpl = -1, sorted = true;
    acorn.parse(text, {
      ecmaVersion: "latest", sourceType: "script", allowHashBang: true,
      onToken: function (t) {
        var type = t.type, start = t.start;
        if (type === tt.eof) return;
        if (tpl >= 0) {
          if (type === tt.dollarBraceL) { start = tpl; tpl = -1; braces.push(true); }
          else if (type === tt.backQuote) { start = tpl; tpl = -1; }
          else return;
        } else if (type === tt.backQuote) { tpl = start; return; }
        else {
          if (type === tt.braceL || type === tt.dollarBraceL) braces.push(false);
          if (type === tt.braceR && braces.pop() === true) { tpl = start; return; }
        }
        if (out.length > 0 && start < out[out.length - 2]) sorted = false;
        out.push(start, t.end);
      }
    });
    if (!sorted) {  // not seen: sorted by start, stably, as Python sorts them
      var order = [], i, again = [];
      for (i = 0; i < out.length; i += 2) order.push(i);
      order.sort(function (a, b) { return out[a] - out[b]; });
      for (i = 0; i < order.length; i++) again.push(out[order[i]], out[order[i] + 1]);
      out = again;
    }
    return out;
  }

  // The check's tokens of `input` when they tile it (only what align.py's _GAP skips between
  // them, after a hashbang line), else acorn's; `heard` says which.
  var heard = false;

  function mapInputTokens(input) {
    var toks = heldTokens.get(input);
    heard = false;
    if (toks === undefined) return mapTokens(input);
    heldTokens.delete(input);
    var at = hashbangEnd(input);
    for (var i = 0; i < toks.length; i += 2) {
      if (mapGap(input, at) !== toks[i] || toks[i + 1] <= toks[i]) return mapTokens(input);
      at = toks[i + 1];
    }
    if (mapGap(input, at) !== input.length) return mapTokens(input);
    heard = true;
    return toks;
  }

  // align.py's `pair`: (output start, input start, length) of each token, flat; null: no pairing.
  function mapPairs(input, output) {
    var toks = mapInputTokens(input), out = new Int32Array(toks.length / 2 * 3), n = 0, i;
    if (output === input || input.startsWith(output)) {
      for (i = 0; i < toks.length; i += 2) {
        if (toks[i + 1] <= output.length) {
          out[n++] = toks[i]; out[n++] = toks[i]; out[n++] = toks[i + 1] - toks[i];
        }
      }
      return out.subarray(0, n);
    }
    var at = output.charCodeAt(0) === 35 && output.charCodeAt(1) === 33 ? hashbangEnd(output) : 0;
    for (i = 0; i < toks.length; i += 2) {
      var start = toks[i], length = toks[i + 1] - start;
      at = mapGap(output, at);
      if (!mapSame(output, at, input, start, length)) return null;
      out[n++] = at; out[n++] = start; out[n++] = length;
      at += length;
    }
    return mapGap(output, at) === output.length ? out : null;
  }

  var VLQ_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var VLQ_VALUES = new Int8Array(128).fill(-1);
  for (var v = 0; v < 64; v++) VLQ_VALUES[VLQ_DIGITS.charCodeAt(v)] = v;
  var VLQ_CODES = new Uint8Array(64);
  for (v = 0; v < 64; v++) VLQ_CODES[v] = VLQ_DIGITS.charCodeAt(v);

  // Whether a[at, at + length) is b[from, from + length) (no string made for the comparison).
  function mapSame(a, at, b, from, length) {
    if (at + length > a.length || from + length > b.length) return false;
    for (var i = 0; i < length; i++) if (a.charCodeAt(at + i) !== b.charCodeAt(from + i)) return false;
    return true;
  }

  // vlq.py's `encode_mappings` of one file's mappings (flat, six numbers a mapping: line,
  // column, source (0), source line, column, length).
  function mapEncode(made) {
    // Character codes into a buffer, made a string a chunk at a time: no string a segment.
    var buf = new Uint8Array(64), n = 0, line = 0, column = 0, srcLine = 0, srcCol = 0, first = true;
    for (var i = 0; i < made.length; i += 6) {
      var g = made[i];
      if (n + 40 + g - line > buf.length) {
        var bigger = new Uint8Array(2 * buf.length + 40 + g - line);
        bigger.set(buf);
        buf = bigger;
      }
      if (g > line) { buf.fill(59, n, n + g - line); n += g - line; line = g; column = 0; first = true; }  // ";"
      if (!first) buf[n++] = 44;  // ","
      n = vlqInto(buf, n, made[i + 1] - column);
      buf[n++] = 65;  // "A": source 0
      n = vlqInto(buf, n, made[i + 3] - srcLine);
      n = vlqInto(buf, n, made[i + 4] - srcCol);
      first = false;
      column = made[i + 1]; srcLine = made[i + 3]; srcCol = made[i + 4];
    }
    var parts = [];
    for (var at = 0; at < n; at += 8192) {
      parts.push(String.fromCharCode.apply(null, buf.subarray(at, Math.min(n, at + 8192))));
    }
    return parts.join("");
  }

  function vlqInto(buf, n, value) {
    var x = value < 0 ? -value * 2 + 1 : value * 2;
    if (x < 0x40000000) {  // small integers: bit operations, no floating point
      do {
        var low = x & 31;
        x >>>= 5;
        buf[n++] = VLQ_CODES[x > 0 ? low | 32 : low];
      } while (x > 0);
      return n;
    }
    do {
      var digit = x % 32;
      x = Math.floor(x / 32);
      buf[n++] = VLQ_CODES[x > 0 ? digit + 32 : digit];
    } while (x > 0);
    return n;
  }

  // verify.py's `verify_file`: the encoded mappings read back as made (`made`: six numbers a
  // mapping, the checked length last; `outStarts`, `srcStarts`: the texts' line starts), inside both
  // texts, and each checked token (a positive length) the same text at its source. Read as one
  // pass: each segment is compared as soon as it is read.
  function mapProven(mappings, made, output, original, outStarts, srcStarts) {
    var line = 0, column = 0, count = 0, acc = 0, shift = 0, unit = 1, n = mappings.length, k = 0;
    var v0 = 0, v1 = 0, v2 = 0, v3 = 0, source = 0, srcLine = 0, srcCol = 0;
    for (var i = 0; i <= n; i++) {
      var c = i < n ? mappings.charCodeAt(i) : 59;
      if (c === 44 || c === 59) {  // "," or ";"
        if (shift !== 0) return false;
        if (count > 0) {
          if (count !== 4 && count !== 5) return false;  // a file's own map maps every segment
          column += v0; source += v1; srcLine += v2; srcCol += v3;
          if (k >= made.length || line !== made[k] || column !== made[k + 1] || source !== 0 ||
              srcLine !== made[k + 3] || srcCol !== made[k + 4]) return false;
          var start = mapOffset(output, outStarts, line, column);
          var at = mapOffset(original, srcStarts, srcLine, srcCol);
          if (start < 0 || at < 0) return false;
          var length = made[k + 5];
          if (length > 0 && !mapSame(original, at, output, start, length)) return false;
          k += 6;
        }
        count = 0;
        if (c === 59) { line++; column = 0; }
        continue;
      }
      var digit = c < 128 ? VLQ_VALUES[c] : -1;
      if (digit < 0) return false;
      acc += (digit & 31) * unit;  // unit: 2 ** shift
      if (digit & 32) { shift += 5; unit *= 32; if (shift > 60) return false; continue; }
      var value = acc % 2 === 1 ? -(acc - 1) / 2 : acc / 2;
      if (count === 0) v0 = value; else if (count === 1) v1 = value;
      else if (count === 2) v2 = value; else if (count === 3) v3 = value;
      count++;
      acc = 0; shift = 0; unit = 1;
    }
    return k === made.length && line <= outStarts.length;
  }

  // One script's map: [mappings, first mapping (5 numbers), last mapping (5), 1 if its tokens
  // were the check's (0: acorn's)], [""] when it has none, or null. `edits`: the substitutions
  // (start, end, original start, original end), flat.
  function scriptMap(input, output, original, shift, edits) {
    var pairs = mapPairs(input, output);
    if (pairs === null) return null;
    var editStarts = [], e;
    for (e = 0; e < edits.length; e += 4) editStarts.push(edits[e]);
    var outStarts = mapLines(output), srcStarts = mapLines(original);
    var made = new Int32Array(pairs.length * 2), m = 0;  // six numbers a mapping (the checked length last)
    var outLine = 0, srcLine = 0;
    // The file as read is the very text paired with the output (no substitution, no hashbang
    // dropped): the pairing compared each token there already, and the proof compares it again.
    var paired = shift === 0 && edits.length === 0 && original === input;
    for (var i = 0; i < pairs.length; i += 3) {
      var outStart = pairs[i], length = pairs[i + 2], here = pairs[i + 1] + shift, at = here;
      var k = editStarts.length ? mapLineOf(editStarts, here) : -1;
      if (k >= 0) at = here < edits[4 * k + 1] ? edits[4 * k + 2] : here + edits[4 * k + 3] - edits[4 * k + 1];
      var checked = length;
      if (!paired && !mapSame(original, at, output, outStart, length)) {
        if (!mapEdited(edits, editStarts, here, here + length)) return null;
        checked = 0;  // a substituted `{$name}`: mapped to where it was
      }
      while (outLine + 1 < outStarts.length && outStarts[outLine + 1] <= outStart) outLine++;
      while (outStarts[outLine] > outStart) outLine--;
      while (srcLine + 1 < srcStarts.length && srcStarts[srcLine + 1] <= at) srcLine++;
      while (srcStarts[srcLine] > at) srcLine--;
      made[m++] = outLine; made[m++] = outStart - outStarts[outLine]; made[m++] = 0;
      made[m++] = srcLine; made[m++] = at - srcStarts[srcLine]; made[m++] = checked;
    }
    var mappings = mapEncode(made);
    if (!mapProven(mappings, made, output, original, outStarts, srcStarts)) return null;
    if (made.length === 0) return [""];
    var last = made.length - 6;
    return [mappings, made[0], made[1], 0, made[3], made[4], made[last], made[last + 1], 0,
      made[last + 3], made[last + 4], heard ? 1 : 0];
  }

  // align.py's `_edited`: whether [start, end) overlaps a substitution.
  function mapEdited(edits, editStarts, start, end) {
    var i = mapLineOf(editStarts, Math.max(start, end - 1));
    while (i >= 0) {
      var s = edits[4 * i], e = edits[4 * i + 1];
      if (e > start || (s === e && e === start)) return true;
      if (e <= start) return false;
      i--;
    }
    return false;
  }

  // Files as `split` reads them, three texts each (input, output, original), and `meta`: JSON,
  // [shift, [edits...]] per file. Each file's `scriptMap`, as JSON.
  function mapAll(joined, lengths, meta) {
    var texts = split(joined, lengths), facts = JSON.parse(meta), out = [];
    for (var i = 0; i < facts.length; i++) {
      var made = null;
      try {
        made = scriptMap(texts[3 * i], texts[3 * i + 1], texts[3 * i + 2], facts[i][0], facts[i][1]);
      } catch (e) {
        if (e instanceof RangeError) throw e;  // out of memory or stack: the batch is retried alone
        made = null;  // acorn could not tokenize it: Python's path decides
      }
      out.push(made);
    }
    return JSON.stringify(out);
  }

  return [check, sameAll, analyzeAll, tokens, safeAll, mapAll];
})(acorn, meriyah)
