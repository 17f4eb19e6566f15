"""A deterministic synthetic site for benchmarks: current JavaScript and CSS, shaped like a real one.

Usage: python bench/corpus.py OUT_DIR [--scale 1|2|4] [--seed N]

Writes OUT_DIR/assetbuild.toml and OUT_DIR/static/<area>/... sources. The same seed and scale always
give the same bytes (a seeded PRNG per file; no clock, no network, no hash randomisation), and the
files of scale 1 are a subset of scale 2's and 4's (each file has its own seed), so growth runs
compare like with like.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

STATIC_URL = "/static"


@dataclass(frozen=True)
class Group:
    """One directory of generated sources: how many files, of which kind and size range (bytes)."""

    directory: str  # relative to the site root ("static")
    kind: str  # "js" | "css"
    count: int
    min_size: int
    max_size: int
    vendor: bool = False


@dataclass(frozen=True)
class BundleDef:
    """One bundle of the generated site, as written to assetbuild.toml."""

    output: str
    sources: tuple[str, ...]
    groups: tuple[Group, ...]

    @property
    def kind(self) -> str:
        """ "js" or "css", from the output's extension."""
        return self.output.rsplit(".", 1)[1]


# Scale 1: 350 JS files (~2 MB), 200 CSS files (~1 MB) in four areas.
BUNDLES: tuple[BundleDef, ...] = (
    BundleDef(
        "js/main.js",
        ("js/source/vendor/*.js", "js/source/*.js"),
        (
            Group("js/source/vendor", "js", 2, 200_000, 300_000, vendor=True),
            Group("js/source", "js", 150, 1_000, 10_000),
        ),
    ),
    BundleDef(
        "js/widgets.js",
        ("js/widgets/vendor/*.js", "js/widgets/*.js"),
        (
            Group("js/widgets/vendor", "js", 1, 200_000, 260_000, vendor=True),
            Group("js/widgets", "js", 80, 1_000, 10_000),
        ),
    ),
    BundleDef(
        "admin/js/admin.js",
        ("admin/js/source/vendor/*.js", "admin/js/source/*.js"),
        (
            Group("admin/js/source/vendor", "js", 1, 220_000, 300_000, vendor=True),
            Group("admin/js/source", "js", 116, 1_000, 10_000),
        ),
    ),
    BundleDef(
        "css/main.css",
        ("css/source/vendor/*.css", "css/source/*.css"),
        (
            Group("css/source/vendor", "css", 1, 150_000, 200_000, vendor=True),
            Group("css/source", "css", 110, 1_000, 10_000),
        ),
    ),
    BundleDef(
        "admin/css/admin.css",
        ("admin/css/source/vendor/*.css", "admin/css/source/*.css"),
        (
            Group("admin/css/source/vendor", "css", 1, 100_000, 140_000, vendor=True),
            Group("admin/css/source", "css", 88, 1_000, 10_000),
        ),
    ),
)


@dataclass(frozen=True)
class Stats:
    """What a generation wrote."""

    root: Path
    config: Path
    js_files: int
    js_bytes: int
    css_files: int
    css_bytes: int
    bundles: tuple[BundleDef, ...]


# --------------------------------------------------------------------------- names


def words(text: str) -> tuple[str, ...]:
    """A word list written as text."""
    return tuple(text.split())


WORDS = words(
    "account action active adapter address alert anchor animation api app area array asset "
    "attribute audio author avatar badge banner base basket batch binding block body border "
    "bound box breadcrumb browser buffer button cache calendar callback canvas caption card "
    "carousel cart cell change channel chart check child chip choice city click client clock "
    "close cluster code collapse color column comment config consent container content context "
    "control cookie count country coupon cursor data date day debounce delay delta detail "
    "dialog digest display document draft drawer drop editor element email entry error event "
    "extra feed field file filter flag focus font footer form frame gallery gate grid group "
    "handler header height hint history holder hook host icon image index info input item key "
    "label language layer layout length level limit line link list loader locale lock map "
    "marker mask media menu message meta mode model modal month mount name node note notice "
    "number offset option order origin owner page pager pane panel param parent part path "
    "payload picker pixel player point popup port position post preview price profile "
    "progress prompt query queue radio range rating reader record region render request "
    "result route row rule scale schema scope score screen scroll search section select "
    "session setting shadow shape sheet size slide slider slot sort source span stack stage "
    "state status step store stream style summary switch tab table tag target task template "
    "text theme thumb tile time timer title toast toggle token tool tooltip total touch track "
    "tree trigger type unit upload user value video view viewport visit widget width window "
    "worker zone"
)

VERBS = words(
    "add apply bind build check clear close collect compute create decode emit encode ensure "
    "fetch find format get handle hide init load make merge move normalize open parse pick "
    "push read refresh register remove render reset resolve restore save schedule select "
    "send serialize set show sort split start stop submit sync toggle track update validate "
    "watch wrap write"
)

RESERVED = frozenset(
    words(
        "break case catch class const continue debugger default delete do else enum export extends "
        "false finally for function if import in instanceof new null return super switch this "
        "throw true try typeof var void while with yield let static implements interface package "
        "private protected public await async arguments eval of get set undefined NaN Infinity"
    )
)

GLOBALS = (
    "window",
    "document",
    "console",
    "Math",
    "JSON",
    "Object",
    "Array",
    "Promise",
    "Date",
    "Number",
    "String",
    "navigator",
    "location",
    "history",
    "localStorage",
    "performance",
)


def pascal(words: list[str]) -> str:
    """["user", "menu"] -> "UserMenu"."""
    return "".join(w[:1].upper() + w[1:] for w in words)


def camel(words: list[str]) -> str:
    """["user", "menu"] -> "userMenu"."""
    return words[0] + pascal(words[1:])


# --------------------------------------------------------------------------- JavaScript


@dataclass
class Ctx:
    """Where the generator is: which syntax is legal at this point."""

    in_function: bool = False
    is_async: bool = False
    is_generator: bool = False
    loops: int = 0
    in_switch: bool = False
    privates: tuple[str, ...] = ()


FRESH_FN = {
    "in_function": True,
    "is_async": False,
    "is_generator": False,
    "loops": 0,
    "in_switch": False,
}
MAX_LEVEL = 6  # deepest statement nesting; expressions stop opening blocks there


def _operand(text: str) -> str:
    """Parenthesise a regex literal after an operator or keyword (a known rjsmin hazard)."""
    return f"({text})" if text.startswith("/") else text


@dataclass
class JsGen:
    """Generates valid classic-script JavaScript from templates with random names and structure."""

    rng: random.Random
    prefix: str  # unique per file: top-level names start with it, so bundles never collide
    nested_templates: bool
    used: set[str] = field(default_factory=set)
    refs: list[str] = field(default_factory=list)
    ctx: Ctx = field(default_factory=Ctx)
    level: int = 0  # indentation depth of the statement being generated
    in_template: int = 0

    # ---- names

    def fresh(self, kind: str = "var") -> str:
        """A declared name unique in this file (so no scope ever declares it twice)."""
        r = self.rng
        for attempt in range(100):
            if kind == "class":
                name = pascal(r.sample(WORDS, r.choice((1, 2, 2))))
            elif kind == "func":
                name = r.choice(VERBS) + pascal(r.sample(WORDS, r.choice((1, 1, 2))))
            elif kind == "const" and r.random() < 0.3:
                name = "_".join(r.sample(WORDS, r.choice((1, 2)))).upper()
            else:
                n = r.choice((1, 1, 1, 2, 2, 3))
                name = camel(r.sample(WORDS, n)) if n > 1 or r.random() < 0.8 else r.choice("ijkn")
            if attempt > 20:
                name += str(attempt)
            if name not in self.used and name not in RESERVED:
                self.used.add(name)
                self.refs.append(name)
                return name
        raise AssertionError("unreachable: suffixed names are unique")

    def top(self, kind: str) -> str:
        """A top-level name, prefixed per file so concatenated files never redeclare it."""
        base = self.fresh(kind)
        if kind == "class":
            return self.prefix + base
        return self.prefix[:1].lower() + self.prefix[1:] + base[:1].upper() + base[1:]

    def ref(self) -> str:
        r = self.rng
        if self.refs and r.random() < 0.85:
            return r.choice(self.refs[-25:])
        return r.choice(GLOBALS)

    def prop(self) -> str:
        r = self.rng
        return camel(r.sample(WORDS, r.choice((1, 1, 2))))

    @contextmanager
    def scope(self, **changes: Any) -> Iterator[None]:
        """Enter a nested context (function, loop, class); names declared inside stay inside."""
        saved, saved_refs, saved_level = self.ctx, len(self.refs), self.level
        self.ctx = replace(saved, **changes)
        try:
            yield
        finally:
            self.ctx, self.level = saved, saved_level
            del self.refs[saved_refs:]

    # ---- expressions (depth counts expression nesting; self.level is the indentation)

    def string(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.12:
            path = "/".join(r.sample(WORDS, r.choice((1, 2))))
            ext = r.choice(("svg", "png", "json", "webp", "woff2"))
            return f"'{{$static}}/{path}.{ext}'"
        if roll < 0.2:
            return '"' + " ".join(r.sample(WORDS, r.randint(2, 6))).capitalize() + '.\\n"'
        if roll < 0.28:
            return "'" + "-".join(r.sample(WORDS, 2)) + "'"
        if roll < 0.31:
            return r.choice(
                ("'\\u00e9t\\u00e9'", "'caf\u00e9 \u2014 na\u00efve'", "'\\x41\\t'", '"it\'s"')
            )
        return "'" + r.choice(WORDS) + "'"

    def number(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.5:
            return str(r.randint(0, 100))
        if roll < 0.6:
            return f"{r.randint(1, 99)}_{r.randint(0, 999):03d}_{r.randint(0, 999):03d}"
        if roll < 0.7:
            return f"0x{r.randint(0, 0xFFFFFF):06x}"
        if roll < 0.8:
            return f"{r.randint(0, 9)}.{r.randint(1, 99)}"
        if roll < 0.87:
            return f"{r.randint(1, 9)}e{r.randint(2, 9)}"
        if roll < 0.93:
            return f"{r.randint(1, 2**53)}n"
        return f"0b{r.getrandbits(8):08b}"

    REGEXES = (
        r"/^\s+|\s+$/g",
        r"/(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})/u",
        r"/[A-Z]/g",
        r"/^#?([a-f\d]{2})([a-f\d]{2})([a-f\d]{2})$/i",
        r"/[.*+?^${}()|[\]\\]/g",
        r"/\/+$/",
        r"/\p{L}+/gu",
        r"/<[^>]+>/gs",
        r"/\d+(?=px)/y",
        r"/(\w+)=([^&]*)/dg",
        r"/^[\w.+-]+@[\w-]+\.[\w.]+$/",
        r"/(?<!\\)\{(\w+)\}/g",
        r"/\r\n?|\n/",
    )

    def template(self, depth: int) -> str:
        r = self.rng
        parts = ["`"]
        self.in_template += 1
        for _ in range(r.randint(1, 3)):
            parts.append(" ".join(r.sample(WORDS, r.randint(0, 3))) + r.choice(("", " ", "/", "-")))
            if self.nested_templates and r.random() < 0.3:
                inner = f"`{r.choice(('', ' ', ' is-'))}{r.choice(WORDS)}${{{self.ref()}}}`"
                parts.append(f"${{{self.ref()} ? {inner} : ''}}")
            else:
                parts.append("${" + self.expr(depth + 1, simple=True) + "}")
        self.in_template -= 1
        if r.random() < 0.15:
            parts.append("{$static}/" + r.choice(WORDS))
        parts.append("`")
        return "".join(parts)

    def atom(self, depth: int) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.35:
            return self.ref()
        if roll < 0.5:
            return self.string()
        if roll < 0.62:
            return self.number()
        if roll < 0.68:
            return r.choice(("true", "false", "null", "undefined", "this", "[]", "{}"))
        if roll < 0.74 and (not self.in_template or self.nested_templates):
            return self.template(depth)
        if roll < 0.78:
            return r.choice(self.REGEXES)
        return f"{self.ref()}.{self.prop()}"

    def args(self, depth: int) -> str:
        r = self.rng
        items = [self.expr(depth + 1) for _ in range(r.choice((0, 1, 1, 2, 2, 3)))]
        if items and r.random() < 0.1:
            items[-1] = "..." + self.ref()
        return ", ".join(items)

    def params(self, n: int | None = None) -> str:
        r = self.rng
        n = r.choice((0, 1, 1, 2, 2, 3)) if n is None else n
        out = []
        for i in range(n):
            roll = r.random()
            if roll < 0.15:
                out.append(f"{self.fresh()} = {self.number()}")
            elif roll < 0.22 and i == n - 1:
                out.append(f"...{self.fresh()}")
            elif roll < 0.32:
                a, b = self.fresh(), self.fresh()
                out.append(f"{{ {a}, {b} = {self.string()} }} = {{}}")
            else:
                out.append(self.fresh())
        return ", ".join(out)

    def arrow(self, depth: int) -> str:
        r = self.rng
        is_async = r.random() < 0.2
        with self.scope(**{**FRESH_FN, "is_async": is_async}):
            head = self.fresh() if r.random() < 0.35 else f"({self.params()})"
            if depth > 1 or self.level >= MAX_LEVEL or r.random() < 0.5:
                body = self.expr(depth + 1)
                if body.startswith("{"):
                    body = f"({body})"
                text = f"{head} => {_operand(body)}"
            else:
                text = f"{head} => {self.block(self.level, r.randint(1, 3))}"
        return ("async " if is_async else "") + text

    def obj(self, depth: int) -> str:
        r = self.rng
        items = []
        for _ in range(r.randint(1, 5)):
            roll = r.random()
            key = self.prop()
            if roll < 0.5:
                items.append(f"{key}: {self.expr(depth + 1)}")
            elif roll < 0.6:
                items.append(f"[{self.ref()}]: {self.expr(depth + 1)}")
            elif roll < 0.68:
                items.append(f"'{key}-{r.choice(WORDS)}': {self.number()}")
            elif roll < 0.76:
                items.append("..." + self.ref())
            elif roll < 0.86 and self.level < MAX_LEVEL:
                with self.scope(**FRESH_FN):
                    items.append(f"{key}({self.params()}) {self.block(self.level, 2)}")
            elif roll < 0.92:
                with self.scope(**FRESH_FN):
                    items.append(f"get {key}() {{ return {self.expr(depth + 1)}; }}")
            else:
                ident = self.ref()
                items.append(ident if ident not in GLOBALS else f"{key}: {ident}")
        return "{ " + ", ".join(dict.fromkeys(items)) + " }"

    def primary(self, depth: int) -> str:
        """An expression usable as an operand without parentheses."""
        r = self.rng
        if depth > 3:
            return self.atom(depth)
        roll = r.random()
        if roll < 0.3:
            return self.atom(depth)
        if roll < 0.5:
            callee = f"{self.ref()}.{r.choice(VERBS)}{pascal([r.choice(WORDS)])}"
            if r.random() < 0.3:
                callee = callee.replace(".", "?.", 1)
            return f"{callee}({self.args(depth)})"
        if roll < 0.58:
            return f"{self.ref()}?.{self.prop()}?.[{self.expr(depth + 1, simple=True)}]"
        if roll < 0.63:
            return f"{self.ref()}.{self.prop()}?.({self.args(depth)})"
        if roll < 0.7:
            return f"[{self.args(depth)}]"
        if roll < 0.76:
            cls = r.choice(("Map", "Set", "URL", "Date", "Error", "AbortController", "WeakMap"))
            return f"new {cls}({self.args(depth)})"
        if roll < 0.82 and self.ctx.is_async:
            return f"(await {_operand(self.primary(depth + 1))})"
        if roll < 0.85 and self.ctx.is_generator:
            return f"(yield {_operand(self.primary(depth + 1))})"
        if roll < 0.9 and self.ctx.privates:
            return f"this.{r.choice(self.ctx.privates)}"
        return f"({self.expr(depth + 1)})"

    BINARY = (
        "+",
        "-",
        "*",
        "/",
        "%",
        "**",
        "===",
        "!==",
        "<",
        ">=",
        "&&",
        "||",
        "??",
        "&",
        "|",
        "<<",
        ">>>",
        "in",
    )

    def expr(self, depth: int = 0, simple: bool = False) -> str:
        r = self.rng
        if simple or depth > 3:
            return self.primary(depth + 2)
        roll = r.random()
        if roll < 0.4:
            return self.primary(depth)
        if roll < 0.6:
            op = r.choice((*self.BINARY, "instanceof"))
            left = _operand(self.primary(depth + 1))
            if op == "instanceof":
                right = r.choice(("Element", "Error", "Map", "Array", "HTMLInputElement"))
            else:
                right = _operand(self.primary(depth + 1))
            return f"({left} {op} {right})"
        if roll < 0.68:
            return (
                f"{self.primary(depth + 1)} ? {self.primary(depth + 1)} : {self.primary(depth + 1)}"
            )
        if roll < 0.74:
            op = r.choice(("!", "typeof ", "void ", "-", "~", "+"))
            return op + _operand(self.primary(depth + 1))
        if roll < 0.84:
            return self.arrow(depth)
        if roll < 0.94:
            return self.obj(depth)
        if roll < 0.97 or self.level >= MAX_LEVEL:
            return self.template(depth)
        with self.scope(**FRESH_FN):
            name = self.fresh("func")
            return f"function {name}({self.params()}) {self.block(self.level, 2)}"

    # ---- statements: the first line unindented, later lines indented for `level`

    def block(self, level: int, n: int) -> str:
        """A braced block of n statements, opened on the current line and closed at `level`."""
        ind = "  " * (level + 1)
        body = "".join(f"{ind}{s}\n" for s in self.statements(level + 1, n))
        return "{\n" + body + "  " * level + "}"

    def statements(self, level: int, n: int) -> list[str]:
        return [self.statement(level) for _ in range(n)]

    def statement(self, level: int) -> str:
        saved = self.level
        self.level = level
        try:
            return self._statement(level)
        finally:
            self.level = saved

    def _statement(self, level: int) -> str:
        r = self.rng
        c = self.ctx
        roll = r.random()
        deep = level >= MAX_LEVEL - 1
        ind = "  " * level
        if roll < 0.18 or (deep and roll < 0.5):
            kw = r.choice(("const", "const", "let"))
            n_refs = len(self.refs)
            name = self.fresh("const" if kw == "const" else "var")
            del self.refs[n_refs:]
            value = self.expr(0)
            self.refs.append(name)
            return f"{kw} {name} = {value};"
        if roll < 0.25:
            source, default = self.ref(), self.atom(1)  # before the new names: no self-reference
            a, b, rest = self.fresh(), self.fresh(), self.fresh()
            if r.random() < 0.5:
                return f"const {{ {a}, {self.prop()}: {b} = {default}, ...{rest} }} = {source};"
            return f"let [{a}, , {b} = {self.number()}, ...{rest}] = {source} ?? [];"
        if roll < 0.38 or deep:
            roll2 = r.random()
            target = f"{self.ref()}.{self.prop()}"
            if roll2 < 0.4:
                return f"{self.primary(0)};"
            if roll2 < 0.6:
                op = r.choice(("=", "??=", "||=", "&&=", "+=", "="))
                return f"{target} {op} {self.expr(0)};"
            if roll2 < 0.75 and level < MAX_LEVEL:
                event = r.choice(("click", "input", "change", "keydown", "submit"))
                with self.scope(**FRESH_FN):
                    ev = self.fresh()
                    body = self.block(level, r.randint(1, 3))
                return f"{self.ref()}.addEventListener('{event}', ({ev}) => {body});"
            if roll2 < 0.85 and c.is_async:
                return f"await {_operand(self.primary(0))};"
            if roll2 < 0.9 and c.is_generator:
                return f"yield{r.choice(('', '*'))} {_operand(self.primary(0))};"
            return f"console.{r.choice(('log', 'warn', 'debug'))}({self.template(0)});"
        if roll < 0.48:
            text = f"if ({self.expr(1)}) {self.block(level, r.randint(1, 3))}"
            if r.random() < 0.4:
                text += f" else if ({self.expr(1)}) {self.block(level, 1)}"
            if r.random() < 0.4:
                text += f" else {self.block(level, r.randint(1, 2))}"
            return text
        if roll < 0.56:
            kind = r.random()
            n = r.randint(1, 3)
            with self.scope(loops=c.loops + 1):
                if kind < 0.45:
                    a = self.fresh()
                    if r.random() < 0.3:
                        head = f"const [{a}, {self.fresh()}] of Object.entries({self.ref()})"
                    else:
                        head = f"const {a} of {self.ref()}"
                    if c.is_async and r.random() < 0.2:
                        return f"for await ({head}) {self.block(level, n)}"
                    return f"for ({head}) {self.block(level, n)}"
                if kind < 0.7:
                    i = self.fresh()
                    return f"for (let {i} = 0; {i} < {self.ref()}.length; {i}++) {self.block(level, n)}"
                if kind < 0.8:
                    return f"for (const {self.fresh()} in {self.ref()}) {self.block(level, n)}"
                if kind < 0.9:
                    return f"while ({self.expr(1)}) {self.block(level, n)}"
                return f"do {self.block(level, n)} while ({self.expr(1)});"
        if roll < 0.6:
            n_refs = len(self.refs)
            label = self.fresh()
            del self.refs[n_refs:]
            with self.scope(loops=c.loops + 2):
                a, b = self.fresh(), self.fresh()
                outer_src, inner_src = self.ref(), self.ref()
                inner = [
                    f"if ({self.expr(1)}) continue {label};",
                    f"if ({self.expr(1)}) break {label};",
                    *self.statements(level + 2, r.randint(1, 2)),
                ]
            ind1, ind2 = "  " * (level + 1), "  " * (level + 2)
            body = "".join(f"{ind2}{s}\n" for s in inner)
            return (
                f"{label}: for (const {a} of {outer_src}) {{\n"
                f"{ind1}for (const {b} of {inner_src}) {{\n{body}{ind1}}}\n{ind}}}"
            )
        if roll < 0.64 and c.loops:
            return r.choice(("break;", "continue;"))
        if roll < 0.69:
            with self.scope():
                body = self.block(level, r.randint(1, 3))
            if r.random() < 0.3:
                text = f"try {body} catch {self.block(level, 1)}"
            else:
                with self.scope():
                    err = self.fresh()
                    text = f"try {body} catch ({err}) {self.block(level, 1)}"
            if r.random() < 0.3:
                text += f" finally {self.block(level, 1)}"
            return text
        if roll < 0.73:
            ind1, ind2 = "  " * (level + 1), "  " * (level + 2)
            cases = []
            with self.scope(in_switch=True):
                for value in dict.fromkeys(self.string() for _ in range(r.randint(2, 4))):
                    body = "".join(
                        f"\n{ind2}{s}" for s in self.statements(level + 2, r.randint(1, 2))
                    )
                    cases.append(f"{ind1}case {value}:{body}\n{ind2}break;")
            cases.append(f"{ind1}default:\n{ind2}break;")
            return f"switch ({self.expr(1)}) {{\n" + "\n".join(cases) + f"\n{ind}}}"
        if roll < 0.8 and level < 3:
            return self.function_decl(level)
        if roll < 0.83 and level < 3:
            return self.class_decl(level, self.fresh("class"))
        if roll < 0.88 and c.in_function:
            return f"return {self.expr(0)};"
        if roll < 0.9:
            return f"{self.ref()}.{self.prop()} = BigInt({self.ref()}) * {r.randint(1, 9)}_{r.randint(100, 999)}n;"
        if roll < 0.92:
            return f"// {' '.join(r.sample(WORDS, r.randint(3, 9)))}"
        method = r.choice(("replace", "split", "match", "search"))
        value = f"String({self.ref()}).{method}({r.choice(self.REGEXES)}, {self.string()})"
        return f"const {self.fresh('const')} = {value};"

    def function_decl(self, level: int, name: str | None = None) -> str:
        r = self.rng
        name = name or self.fresh("func")
        roll = r.random()
        is_async, is_gen = roll < 0.25, 0.25 <= roll < 0.35
        doc = ""
        if r.random() < 0.35:
            ind = "  " * level
            words = " ".join(r.sample(WORDS, r.randint(4, 10))).capitalize()
            ptype = r.choice(("string", "number", "Object", "Element"))
            rtype = r.choice(("void", "Promise<void>", "boolean"))
            doc = (
                f"/**\n{ind} * {words}.\n{ind} * @param {{{ptype}}} {r.choice(WORDS)}\n"
                f"{ind} * @returns {{{rtype}}}\n{ind} */\n{ind}"
            )
        with self.scope(**{**FRESH_FN, "is_async": is_async, "is_generator": is_gen}):
            params = self.params()
            body = self.block(level, r.randint(2, 6))
        kw = "async function" if is_async else "function*" if is_gen else "function"
        return f"{doc}{kw} {name}({params}) {body}"

    def class_decl(self, level: int, name: str) -> str:
        r = self.rng
        base = r.choice((None, None, None, "HTMLElement", "EventTarget", "Error"))
        privates = tuple(dict.fromkeys(f"#{self.prop()}" for _ in range(r.randint(1, 3))))
        ind1, ind2 = "  " * (level + 1), "  " * (level + 2)
        members: list[str] = []
        no_fn = {
            "in_function": False,
            "is_async": False,
            "is_generator": False,
            "loops": 0,
            "in_switch": False,
        }
        with self.scope(**no_fn, privates=privates):
            self.level = level + 1
            for p in privates:
                members.append(f"{p} = {self.atom(1)};")
            if r.random() < 0.5:
                members.append(f"static {self.prop()}Count = 0;")
            if r.random() < 0.6:
                with self.scope(**no_fn):
                    members.append(f"static {self.block(level + 1, r.randint(1, 2))}")
            with self.scope(**FRESH_FN):
                params = self.params()
                lines = ["super();"] if base else []
                lines.append(f"this.{privates[0]} = {self.expr(0)};")
                lines.extend(self.statements(level + 2, r.randint(0, 2)))
                body = "".join(f"{ind2}{line}\n" for line in lines)
                members.append(f"constructor({params}) {{\n{body}{ind1}}}")
            names: set[str] = set()
            for _ in range(r.randint(1, 5)):
                kind = r.random()
                mname = r.choice(VERBS) + pascal([r.choice(WORDS)])
                if mname in names:
                    continue
                names.add(mname)
                if kind < 0.15:
                    p = r.choice(privates)
                    members.append(f"get {mname}() {{ return this.{p} ?? null; }}")
                    with self.scope(**FRESH_FN):
                        members.append(
                            f"set {mname}({self.fresh()}) {{ this.{p} = {self.refs[-1]}; }}"
                        )
                    continue
                is_async, is_gen = kind < 0.35, 0.35 <= kind < 0.45
                with self.scope(**{**FRESH_FN, "is_async": is_async, "is_generator": is_gen}):
                    params = self.params()
                    body = self.block(level + 1, r.randint(1, 4))
                head = ("async " if is_async else "") + ("*" if is_gen else "")
                if r.random() < 0.1 and not is_async and not is_gen:
                    head = "static "
                members.append(f"{head}{mname}({params}) {body}")
            if r.random() < 0.4:
                with self.scope(**FRESH_FN):
                    members.append(
                        f"#{self.prop()}Helper({self.params(1)}) {{ return {r.choice(privates)} in this; }}"
                    )
            if r.random() < 0.3:
                members.append(
                    f"*[Symbol.iterator]() {{ yield* Object.values(this.{privates[0]} ?? {{}}); }}"
                )
        extends = f" extends {base}" if base else ""
        body = "".join(f"{ind1}{m}\n" for m in members)
        return f"class {name}{extends} {{\n{body}{'  ' * level}}}"


def js_source(rng: random.Random, prefix: str, size: int, *, vendor: bool) -> str:
    """One JavaScript file of about `size` bytes, valid as a classic script and safe to concatenate."""
    gen = JsGen(rng, prefix, nested_templates=rng.random() < 0.05)
    if vendor:
        lib = pascal(rng.sample(WORDS, 2))
        header = (
            f"/*! {lib} v{rng.randint(1, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
            f" | (c) {lib} contributors | MIT License */\n"
            "(function (global, factory) {\n"
            "  typeof exports === 'object' && typeof module !== 'undefined' ? module.exports = factory() :\n"
            "  typeof define === 'function' && define.amd ? define(factory) :\n"
            f"  (global = typeof globalThis !== 'undefined' ? globalThis : global || self, global.{lib} = factory());\n"
            "})(this, (function () { 'use strict';\n\n"
        )
        return _fill(gen, header, size, depth=1, exports=True) + "}));\n"
    roll = rng.random()
    if roll < 0.55:
        ns = pascal(rng.sample(WORDS, 1))
        header = (
            f"/* {' '.join(rng.sample(WORDS, 4))} */\n;(function (root) {{\n  'use strict';\n\n"
        )
        text = _fill(gen, header, size, depth=1, exports=False)
        return (
            text
            + f"  root.App = root.App || {{}};\n  root.App.{ns}{prefix} = {{ {', '.join(gen.refs[:3])} }};\n}})(window);\n"
        )
    if roll < 0.75:
        header = "document.addEventListener('DOMContentLoaded', async () => {\n"
        with gen.scope(in_function=True, is_async=True):
            text = _fill(gen, header, size, depth=1, exports=False)
        return text + "});\n"
    # Top-level declarations: names carry the file's prefix.
    parts = [f"// {prefix}: {' '.join(rng.sample(WORDS, 5))}\n"]
    total, misses = len(parts[0]), 0
    while total < size and misses < 30:
        roll = rng.random()
        if roll < 0.3:
            chunk = gen.class_decl(0, gen.top("class"))
        elif roll < 0.65:
            chunk = gen.function_decl(0, gen.top("func"))
        else:
            chunk = f"const {gen.top('const')} = {gen.expr(0)};"
        if total + len(chunk) > size * 1.2:
            misses += 1
            continue
        parts.append(chunk + "\n\n")
        total += len(chunk) + 2
    return "".join(parts)


def edit_source(size: int, *, seed: int) -> str:
    """A self-contained file (one IIFE, no top-level names) of about `size` bytes, for edit benchmarks."""
    rng = random.Random(f"edit:{seed}")
    gen = JsGen(rng, f"Edit{seed}", nested_templates=False)
    header = f"/* benchmark edit {seed} */\n;(function () {{\n  'use strict';\n\n"
    return _fill(gen, header, size, depth=1, exports=False) + "})();\n"


def _fill(gen: JsGen, header: str, size: int, *, depth: int, exports: bool) -> str:
    parts = [header]
    total = len(header)
    ind = "  " * depth
    decls: list[str] = []
    misses = 0
    while total < size and misses < 30:
        roll = gen.rng.random()
        name = ""
        if roll < 0.3:
            chunk = gen.function_decl(depth)
            name = chunk.split("(", 1)[0].split()[-1].lstrip("*")
        elif roll < 0.42:
            name = gen.fresh("class")
            chunk = gen.class_decl(depth, name)
        else:
            chunk = gen.statement(depth)
        text = ind + chunk + "\n\n"
        if total + len(text) > size * 1.2:
            misses += 1  # too big for what is left: draw another
            continue
        if name:
            decls.append(name)
        parts.append(text)
        total += len(text)
    if exports and decls:
        parts.append(f"{ind}return {{ {', '.join(dict.fromkeys(decls))} }};\n")
    return "".join(parts)


# --------------------------------------------------------------------------- CSS


def _css_value(r: random.Random, prop: str) -> str:
    # Valid CSS only (the value check would rightly warn): `inherit` is a whole value, never part
    # of a shorthand or a gradient, and `auto` only where the property takes it.
    def color(whole: bool = False) -> str:
        keywords = (
            "transparent",
            "currentColor",
            "inherit" if whole else "white",
            "white",
            "black",
        )
        return r.choice(
            (
                f"#{r.getrandbits(24):06x}",
                f"#{r.getrandbits(12):03x}",
                f"rgb({r.randint(0, 255)} {r.randint(0, 255)} {r.randint(0, 255)} / {r.randint(1, 9)}0%)",
                f"rgba({r.randint(0, 255)}, {r.randint(0, 255)}, {r.randint(0, 255)}, 0.{r.randint(1, 9)})",
                f"var(--{r.choice(WORDS)}-color)",
                f"hsl({r.randint(0, 360)}deg {r.randint(0, 100)}% {r.randint(0, 100)}%)",
                r.choice(keywords),
            )
        )

    def length(auto: bool = False) -> str:
        return r.choice(
            (
                f"{r.randint(0, 48)}px",
                f"{r.randint(0, 40) / 8:g}rem",
                f"{r.randint(0, 100)}%",
                "0",
                f"calc(var(--space-{r.randint(1, 6)}) * {r.randint(2, 4)})",
                f"clamp(1rem, {r.randint(1, 5)}vw, {r.randint(2, 4)}rem)",
                "auto" if auto else "1em",
            )
        )

    if "color" in prop or prop in ("background", "fill", "stroke"):
        return color(whole=True)
    if prop in ("margin", "padding", "inset"):
        return " ".join(length(prop != "padding") for _ in range(r.randint(1, 4)))
    if prop in (
        "width",
        "height",
        "max-width",
        "min-height",
        "top",
        "left",
        "gap",
        "font-size",
        "border-radius",
    ):
        return length(prop in ("width", "height", "top", "left"))
    if prop == "border":
        return f"{r.randint(1, 3)}px {r.choice(('solid', 'dashed', 'dotted'))} {color()}"
    if prop == "box-shadow":
        return f"0 {r.randint(0, 8)}px {r.randint(0, 24)}px rgba(0, 0, 0, .{r.randint(1, 5)})"
    if prop == "transition":
        return f"{r.choice(('opacity', 'transform', 'color', 'all'))} {r.randint(1, 6)}00ms {r.choice(('ease', 'ease-in-out', 'cubic-bezier(.4, 0, .2, 1)'))}"
    if prop == "background-image":
        path = "/".join(r.sample(WORDS, 2))
        return r.choice(
            (
                f'url("{{$static}}/img/{path}.webp")',
                f"url({{$static}}/img/{path}.png)",
                f"linear-gradient({r.randint(0, 360)}deg, {color()} 0%, {color()} 100%)",
                "url(\"data:image/svg+xml,%3csvg xmlns='http://www.w3.org/2000/svg'%3e%3c/svg%3e\")",
            )
        )
    if prop == "display":
        return r.choice(("block", "flex", "grid", "inline-flex", "none", "contents"))
    if prop == "grid-template-columns":
        return r.choice(
            (
                "repeat(auto-fill, minmax(12rem, 1fr))",
                "1fr 2fr",
                "[full-start] minmax(1rem, 1fr) [content-start] 60ch [content-end]",
            )
        )
    if prop == "font-family":
        return r.choice(
            (
                '"Inter", system-ui, -apple-system, "Segoe UI", sans-serif',
                "ui-monospace, SFMono-Regular, Menlo, monospace",
                "var(--font-body)",
            )
        )
    if prop == "transform":
        return f"translate({r.randint(-50, 50)}%, {r.randint(-20, 20)}px) rotate({r.randint(0, 360)}deg)"
    if prop == "content":
        return r.choice(('""', '"\\2014"', "attr(data-label)", '"\\201C"'))
    return r.choice(KEYWORDS.get(prop, ("inherit", "initial", "unset")))


KEYWORDS: dict[str, tuple[str, ...]] = {
    "position": ("relative", "absolute", "fixed", "sticky", "static"),
    "cursor": ("pointer", "default", "not-allowed", "grab", "text"),
    "z-index": ("1", "10", "100", "1000", "-1", "auto"),
    "overflow": ("hidden", "auto", "visible", "clip"),
    "align-items": ("center", "flex-start", "stretch", "baseline"),
    "justify-content": ("space-between", "center", "flex-end", "space-around"),
    "opacity": ("0", ".5", ".75", "1"),
    "line-height": ("1", "1.25", "1.5", "normal", "var(--line-height)"),
}


CSS_PROPS = words(
    "color background-color background border border-color margin padding width height max-width "
    "min-height display gap font-size font-family line-height opacity transition box-shadow "
    "background-image transform position overflow cursor z-index align-items justify-content "
    "grid-template-columns border-radius content fill top left outline-color"
)


def _selector(r: random.Random, block: str) -> str:
    parts = []
    for _ in range(r.choice((1, 1, 1, 2, 3))):
        roll = r.random()
        if roll < 0.5:
            sel = (
                f".{block}__{r.choice(WORDS)}"
                if r.random() < 0.6
                else f".{block}--{r.choice(WORDS)}"
            )
        elif roll < 0.65:
            sel = f".{block} > {r.choice(('a', 'li', 'p', 'img', 'span'))}"
        elif roll < 0.75:
            sel = f".{block}:{r.choice(('hover', 'focus-visible', 'first-child', 'not(.is-disabled)', 'is(.active, .open)', 'nth-child(2n + 1)'))}"
        elif roll < 0.85:
            sel = f'[data-{r.choice(WORDS)}="{r.choice(WORDS)}"]'
        elif roll < 0.92:
            sel = f".{block}::{r.choice(('before', 'after', 'placeholder'))}"
        else:
            sel = f"#{r.choice(WORDS)}-{r.choice(WORDS)} .{block}"
        parts.append(sel)
    return ",\n".join(dict.fromkeys(parts))


def _decls(r: random.Random, ind: str, n: int) -> str:
    out = []
    for prop in r.sample(CSS_PROPS, n):
        imp = " !important" if r.random() < 0.03 else ""
        out.append(f"{ind}{prop}: {_css_value(r, prop)}{imp};\n")
        if prop == "transform" and r.random() < 0.3:
            out.append(f"{ind}-webkit-transform: {_css_value(r, prop)};\n")
    return "".join(out)


def css_source(rng: random.Random, size: int, *, vendor: bool) -> str:
    """One CSS file of about `size` bytes: rules, media queries, custom properties, nesting, keyframes."""
    r = rng
    block = "-".join(r.sample(WORDS, r.choice((1, 2))))
    parts: list[str] = []
    if vendor:
        lib = pascal(r.sample(WORDS, 2))
        parts.append(
            f"/*!\n * {lib} v{r.randint(1, 5)}.{r.randint(0, 9)}.{r.randint(0, 9)}\n * Licensed under MIT\n */\n"
        )
        parts.append(
            ":root {\n"
            + "".join(f"  --{w}-color: #{r.getrandbits(24):06x};\n" for w in r.sample(WORDS, 30))
        )
        parts.append("".join(f"  --space-{i}: {i * 0.25:g}rem;\n" for i in range(1, 9)) + "}\n\n")
    else:
        parts.append(f"/* {block}: {' '.join(r.sample(WORDS, 6))} */\n\n")
    total = sum(map(len, parts))
    while total < size:
        roll = r.random()
        if (vendor and roll < 0.05) or roll < 0.015:
            fam = pascal(r.sample(WORDS, 1)) + " Sans"
            slug = fam.lower().replace(" ", "-")
            chunk = (
                f'@font-face {{\n  font-family: "{fam}";\n'
                f'  src: url("{{$static}}/fonts/{slug}.woff2") format("woff2"),\n'
                f'       url({{$static}}/fonts/{slug}.woff) format("woff");\n'
                f"  font-weight: {r.choice((400, 500, 700))};\n  font-style: normal;\n  font-display: swap;\n}}\n\n"
            )
        elif roll < 0.6:
            chunk = f"{_selector(r, block)} {{\n{_decls(r, '  ', r.randint(1, 6))}}}\n\n"
        elif roll < 0.72:
            q = r.choice(
                (
                    f"(min-width: {r.choice((576, 768, 992, 1200))}px)",
                    f"(max-width: {r.choice((575.98, 767.98, 991.98))}px)",
                    "(prefers-reduced-motion: reduce)",
                    "(prefers-color-scheme: dark)",
                    "print",
                    f"screen and (min-width: {r.choice((40, 48, 64))}em) and (orientation: landscape)",
                )
            )
            inner = "".join(
                f"  {_selector(r, block).replace(chr(10), chr(10) + '  ')} {{\n{_decls(r, '    ', r.randint(1, 4))}  }}\n"
                for _ in range(r.randint(1, 3))
            )
            chunk = f"@media {q} {{\n{inner}}}\n\n"
        elif roll < 0.82:
            nested = "".join(
                f"  {r.choice(('&:hover', '& .' + r.choice(WORDS), '&.is-' + r.choice(WORDS), '& > li', '&::after'))} {{\n{_decls(r, '    ', r.randint(1, 3))}  }}\n"
                for _ in range(r.randint(1, 3))
            )
            chunk = (
                f".{block}-{r.choice(WORDS)} {{\n{_decls(r, '  ', r.randint(1, 3))}{nested}}}\n\n"
            )
        elif roll < 0.88:
            name = f"{block}-{r.choice(VERBS)}"
            chunk = (
                f"@keyframes {name} {{\n  from {{ opacity: 0; transform: translateY({r.randint(2, 20)}px); }}\n"
                f"  {r.randint(30, 70)}% {{ opacity: .{r.randint(3, 8)}; }}\n  to {{ opacity: 1; transform: none; }}\n}}\n\n"
            )
        elif roll < 0.94:
            chunk = (
                f".{block} {{\n"
                + "".join(
                    f"  --{block}-{w}: {_css_value(r, 'color')};\n"
                    for w in r.sample(WORDS, r.randint(2, 5))
                )
                + "}\n\n"
            )
        elif roll < 0.97:
            chunk = f"@supports (display: grid) and (not (display: inline-grid)) {{\n  .{block}-grid {{\n{_decls(r, '    ', 2)}  }}\n}}\n\n"
        else:
            chunk = f"/* {' '.join(r.sample(WORDS, r.randint(3, 10)))} */\n"
        parts.append(chunk)
        total += len(chunk)
    return "".join(parts)


# --------------------------------------------------------------------------- the site


def _size(rng: random.Random, group: Group) -> int:
    """Small files skew small (most 1-3 KB, a few near the maximum), as in real sites."""
    if group.vendor:
        return rng.randint(group.min_size, group.max_size)
    span = group.max_size - group.min_size
    return group.min_size + int(span * rng.random() ** 3)


def config_text(bundles: tuple[BundleDef, ...], *, seed: int, scale: int) -> str:
    """The assetbuild.toml of the generated site."""
    lines = [
        f"# Generated by bench/corpus.py (seed {seed}, scale {scale}): a synthetic site for benchmarks.",
        'root = "static"',
        f'static_url = "{STATIC_URL}"',
    ]
    for b in bundles:
        sources = ", ".join(f'"{s}"' for s in b.sources)
        lines += ["", "[[bundle]]", f'output = "{b.output}"', f"sources = [{sources}]"]
    return "\n".join(lines) + "\n"


def generate(
    out_dir: Path, *, scale: int = 1, seed: int = 0, bundles: tuple[BundleDef, ...] = BUNDLES
) -> Stats:
    """Write the site into out_dir (which must not hold a site yet) and say what was written.

    `bundles` defaults to the documented site; tests pass a smaller one of the same shape.
    """
    if scale < 1:
        raise ValueError("scale must be a positive integer")
    root = out_dir / "static"
    config = out_dir / "assetbuild.toml"
    if root.exists() or config.exists():
        raise FileExistsError(f"{out_dir} already holds a site (static/ or assetbuild.toml)")
    counts = {"js": [0, 0], "css": [0, 0]}
    for bundle in bundles:
        for group in bundle.groups:
            directory = root / group.directory
            directory.mkdir(parents=True, exist_ok=True)
            for i in range(group.count * scale):
                rng = random.Random(f"{seed}:{group.directory}:{i}")
                size = _size(rng, group)
                slug = "-".join(rng.sample(WORDS, rng.choice((1, 2))))
                if group.kind == "js":
                    prefix = pascal(slug.split("-")) + str(i)
                    text = js_source(rng, prefix, size, vendor=group.vendor)
                else:
                    text = css_source(rng, size, vendor=group.vendor)
                path = directory / f"{i:04d}-{slug}.{group.kind}"
                data = text.encode("utf-8")
                path.write_bytes(data)
                counts[group.kind][0] += 1
                counts[group.kind][1] += len(data)
    config.write_text(config_text(bundles, seed=seed, scale=scale), encoding="utf-8")
    return Stats(
        root=root,
        config=config,
        js_files=counts["js"][0],
        js_bytes=counts["js"][1],
        css_files=counts["css"][0],
        css_bytes=counts["css"][1],
        bundles=bundles,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scale", type=int, default=1, choices=(1, 2, 4))
    parser.add_argument("--seed", type=int, default=0)
    ns = parser.parse_args(argv)
    try:
        stats = generate(ns.out_dir, scale=ns.scale, seed=ns.seed, bundles=BUNDLES)
    except FileExistsError as exc:
        print(f"corpus.py: {exc}", file=sys.stderr)
        return 2
    print(
        f"{stats.config}: {stats.js_files} JS files ({stats.js_bytes / 1e6:.2f} MB), "
        f"{stats.css_files} CSS files ({stats.css_bytes / 1e6:.2f} MB), {len(stats.bundles)} bundles"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
