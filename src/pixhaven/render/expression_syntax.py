"""The syntax of Pictify's expressions (render/expressions.py): a tokenizer and a
recursive-descent parser into a tree of tuples, with JavaScript's operator precedence.
Parsing is bounded: MAX_EXPRESSION characters, MAX_DEPTH of nesting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pixhaven.numerals import is_ascii_digits
from pixhaven.render.expression_functions import FUNCTIONS
from pixhaven.render.expression_values import (
    MAX_DEPTH,
    MAX_EXPRESSION,
    UNDEFINED,
    ExpressionError,
    numeric,
)

# -- tokens ---------------------------------------------------------------------------------

OPERATORS = (
    "===", "!==", "==", "!=", "<=", ">=", "&&", "||",
    "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", "(", ")", "[", "]", ".", ",",
)  # fmt: skip
KEYWORDS = {"true": True, "false": False, "null": None, "undefined": UNDEFINED}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


@dataclass
class Token:
    kind: str  # "num", "str", "name", "op", "end"
    value: Any
    at: int


def tokenize(text: str) -> list[Token]:
    tokens, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif is_ascii_digits(c) or (c == "." and i + 1 < n and is_ascii_digits(text[i + 1])):
            j = i
            while j < n and (is_ascii_digits(text[j]) or text[j] == "."):
                j += 1
            if j < n and text[j] in "eE":
                k = j + 1 + (j + 1 < n and text[j + 1] in "+-")
                if k < n and is_ascii_digits(text[k]):
                    j = k
                    while j < n and is_ascii_digits(text[j]):
                        j += 1
            try:
                number = float(text[i:j])
            except ValueError:
                raise ExpressionError(f"Bad number {text[i:j]!r}", text) from None
            tokens.append(Token("num", numeric(number), i))
            i = j
        elif c in "'\"":
            j, out = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    out.append(ESCAPES.get(text[j + 1], text[j + 1]))
                    j += 2
                else:
                    out.append(text[j])
                    j += 1
            if j >= n:
                raise ExpressionError("Unterminated string", text)
            tokens.append(Token("str", "".join(out), i))
            i = j + 1
        elif c.isalpha() or c in "_$":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            tokens.append(Token("name", text[i:j], i))
            i = j
        else:
            for op in OPERATORS:
                if text.startswith(op, i):
                    tokens.append(Token("op", op, i))
                    i += len(op)
                    break
            else:
                raise ExpressionError(f"Unexpected character {c!r}", text)
    tokens.append(Token("end", None, n))
    return tokens


# -- syntax tree ----------------------------------------------------------------------------
# Nodes are tuples: ("lit", v) ("var", name) ("get", obj, key) ("call", name, args)
# ("unary", op, x) ("bin", op, a, b) ("and", a, b) ("or", a, b) ("cond", test, yes, no)

BINARY_LEVELS = (
    ("==", "!=", "===", "!=="),
    ("<", "<=", ">", ">="),
    ("+", "-"),
    ("*", "/", "%"),
)


@dataclass
class Parser:
    text: str
    tokens: list[Token] = field(default_factory=list)
    pos: int = 0
    depth: int = 0

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(message, self.text)

    def peek(self, *ops: str) -> bool:
        token = self.tokens[self.pos]
        return token.kind == "op" and token.value in ops

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, op: str) -> None:
        if not self.peek(op):
            token = self.tokens[self.pos]
            found = "the end" if token.kind == "end" else repr(token.value)
            raise self.fail(f"Expected {op!r} but found {found}")
        self.pos += 1

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"Expression nested deeper than {MAX_DEPTH}")

    def chained(self, links: int) -> None:
        """A chain `a + b + c` builds a tree as deep as it is long (operators are left
        associative): each link counts as nesting, so every tree stays under MAX_DEPTH
        and the evaluator's recursion bounded."""
        self.depth -= links

    def parse(self) -> tuple:
        self.tokens = tokenize(self.text)
        node = self.ternary()
        if self.tokens[self.pos].kind != "end":
            raise self.fail(f"Unexpected {self.tokens[self.pos].value!r}")
        return node

    def ternary(self) -> tuple:
        self.enter()
        test = self.logical_or()
        if self.peek("?"):
            self.pos += 1
            yes = self.ternary()
            self.expect(":")
            node: tuple = ("cond", test, yes, self.ternary())
        else:
            node = test
        self.depth -= 1
        return node

    def logical_or(self) -> tuple:
        node, links = self.logical_and(), 0
        while self.peek("||"):
            self.pos += 1
            self.enter()
            links += 1
            node = ("or", node, self.logical_and())
        self.chained(links)
        return node

    def logical_and(self) -> tuple:
        node, links = self.binary(0), 0
        while self.peek("&&"):
            self.pos += 1
            self.enter()
            links += 1
            node = ("and", node, self.binary(0))
        self.chained(links)
        return node

    def binary(self, level: int) -> tuple:
        if level == len(BINARY_LEVELS):
            return self.unary()
        node, links = self.binary(level + 1), 0
        while self.peek(*BINARY_LEVELS[level]):
            op = self.take().value
            self.enter()
            links += 1
            node = ("bin", op, node, self.binary(level + 1))
        self.chained(links)
        return node

    def unary(self) -> tuple:
        if self.peek("!", "-", "+"):
            self.enter()
            op = self.take().value
            node = ("unary", op, self.unary())
            self.depth -= 1
            return node
        return self.postfix()

    def postfix(self) -> tuple:
        node, links = self.primary(), 0
        while True:
            if self.peek("."):
                self.pos += 1
                token = self.take()
                if token.kind != "name":
                    raise self.fail("Expected a property name after '.'")
                self.enter()
                links += 1
                node = ("get", node, ("lit", self.property_name(token.value)))
            elif self.peek("["):
                self.pos += 1
                self.enter()
                links += 1
                node = ("get", node, self.ternary())
                self.expect("]")
            else:
                self.chained(links)
                return node

    def property_name(self, name: str) -> str:
        if name.startswith("__"):
            raise self.fail(f"Property {name!r} is not allowed")
        return name

    def primary(self) -> tuple:
        token = self.take()
        if token.kind in ("num", "str"):
            return ("lit", token.value)
        if token.kind == "name":
            if token.value in KEYWORDS:
                return ("lit", KEYWORDS[token.value])
            name = self.property_name(token.value)
            if self.peek("("):
                return self.call(name)
            return ("var", name)
        if token.kind == "op" and token.value == "(":
            self.enter()
            node = self.ternary()
            self.depth -= 1
            self.expect(")")
            return node
        raise self.fail("Unexpected end" if token.kind == "end" else f"Unexpected {token.value!r}")

    def call(self, name: str) -> tuple:
        if name not in FUNCTIONS:
            raise self.fail(f"Unknown function {name!r}")
        self.pos += 1  # "("
        self.enter()
        args = []
        if not self.peek(")"):
            args.append(self.ternary())
            while self.peek(","):
                self.pos += 1
                args.append(self.ternary())
        self.expect(")")
        self.depth -= 1
        return ("call", name, args)


def parse(expression: str) -> tuple:
    """The syntax tree of one expression (the text between `{{` and `}}`)."""
    if len(expression) > MAX_EXPRESSION:
        raise ExpressionError(
            f"Expression longer than {MAX_EXPRESSION} characters", expression[:60] + "…"
        )
    if not expression.strip():
        raise ExpressionError("Empty expression", expression)
    return Parser(expression).parse()
