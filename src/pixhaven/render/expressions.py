"""Pictify's `{{ }}` expression language: a tokenizer, a recursive-descent parser and a
tree-walking evaluator (the spec is Pictify's concepts/expressions.mdx).

    evaluate("currency(price * quantity, 'USD')", {"price": 29.99, "quantity": 3})  # "$89.97"

The language is JavaScript's expression subset: variables with dotted paths and `[index]`,
string/number/boolean/null literals, `+ - * / %`, comparisons (`== != === !== < <= > >=`),
`&& || !`, the ternary `a ? b : c`, parentheses, and calls of the function library in
expression_functions.py (only those names: nothing else is callable). Values follow
JavaScript's rules (`+` joins when either side is a string, `&&`/`||` give an operand,
truthiness, division by zero is Infinity), because Pictify's templates are written for it.

Nothing here reaches Python objects: variables are JSON values (dicts, lists, str, numbers,
bool, None) and a property is a dict key or a list/string index, never an attribute; names
starting with `__` are refused outright so `x.__class__` reads as the error it is meant to
be. Every evaluation is bounded: expression length, nesting depth, a step budget shared by
a whole template (`Budget`), and the size of every string or list an operator or function
builds. No input runs long or allocates much; all refusals are ExpressionError naming the
expression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MAX_EXPRESSION = 2000  # characters in one expression
MAX_DEPTH = 40  # nesting of parentheses, calls, operators
MAX_STEPS = 200_000  # evaluation steps for one template render (all its expressions)
MAX_VALUE = 100_000  # characters of a built string / items of a built list


class ExpressionError(Exception):
    """A bad or refused expression; the message names it."""

    def __init__(self, message: str, expression: str):
        super().__init__(f"{message} in expression {{{{{expression}}}}}" if expression else message)
        self.reason = message
        self.expression = expression


class _Undefined:
    """JavaScript's `undefined`: a missing variable or property (prints as "")."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


@dataclass
class Budget:
    """Steps left for one render; every node visited and every item a function walks
    costs one."""

    steps: int = MAX_STEPS
    expression: str = ""

    def spend(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise ExpressionError("Evaluation step budget exhausted", self.expression)


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
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            if j < n and text[j] in "eE":
                k = j + 1 + (j + 1 < n and text[j + 1] in "+-")
                if k < n and text[k].isdigit():
                    j = k
                    while j < n and text[j].isdigit():
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
        from pixhaven.render.expression_functions import FUNCTIONS

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


# -- values ---------------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def truthy(value: Any) -> bool:
    if value is None or value is UNDEFINED:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, (bool, int, float, str)):
        return bool(value)
    return True  # arrays and objects, even empty ones, as in JavaScript


def to_number(value: Any) -> float | int:
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if is_number(value):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            number = float(text)
        except ValueError:
            return math.nan
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return math.nan


def format_number(value: float | int) -> str:
    """A number as JavaScript's String() writes it (1, 2.5, 89.97000000000001, Infinity)."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def to_text(value: Any) -> str:
    """A value as it appears in the output (JavaScript's String(), arrays joined by ",")."""
    if value is None or value is UNDEFINED:
        return "" if value is UNDEFINED else "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else to_text(v) for v in value)
    return "[object Object]"


def numeric(value: float) -> float | int:
    """Whole results back to int (2 * 3 is 6, not 6.0), keeping JavaScript's precision."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def bounded(value: Any, expression: str) -> Any:
    if isinstance(value, (str, list)) and len(value) > MAX_VALUE:
        raise ExpressionError(f"Value longer than {MAX_VALUE} characters/items", expression)
    return value


# -- evaluation -----------------------------------------------------------------------------


def loose_equal(a: Any, b: Any) -> bool:
    nullish = (None, UNDEFINED)
    if a in nullish or b in nullish:
        return a in nullish and b in nullish
    if type(a) is type(b) or (is_number(a) and is_number(b)):
        return strict_equal(a, b)
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return a is b
    return to_number(a) == to_number(b)


def strict_equal(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, dict)):
        return a is b
    return a == b


def compare(op: str, a: Any, b: Any) -> bool:
    if not (isinstance(a, str) and isinstance(b, str)):
        a, b = to_number(a), to_number(b)
        if math.isnan(a) or math.isnan(b):
            return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def arithmetic(op: str, a: Any, b: Any, expression: str) -> Any:
    if op == "+" and (isinstance(a, (str, list, dict)) or isinstance(b, (str, list, dict))):
        left, right = to_text(a), to_text(b)
        if len(left) + len(right) > MAX_VALUE:
            raise ExpressionError(f"Value longer than {MAX_VALUE} characters", expression)
        return left + right
    x, y = to_number(a), to_number(b)
    if op == "+":
        return numeric(x + y)
    if op == "-":
        return numeric(x - y)
    if op == "*":
        try:
            return numeric(x * y)
        except OverflowError:
            return math.inf
    if op == "/":
        if y == 0:
            return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
        return numeric(x / y)
    if y == 0 or math.isinf(x) or math.isnan(x) or math.isnan(y):
        return math.nan
    return numeric(math.fmod(x, y))  # JavaScript's % keeps the dividend's sign


def member(obj: Any, key: Any, expression: str) -> Any:
    if isinstance(key, str) and key.startswith("__"):
        raise ExpressionError(f"Property {key!r} is not allowed", expression)
    if isinstance(obj, dict):
        return obj.get(to_text(key), UNDEFINED)
    if isinstance(obj, (list, str)):
        if key == "length":
            return len(obj)
        if is_number(key) and float(key).is_integer() and 0 <= key < len(obj):
            return obj[int(key)]
        return UNDEFINED
    if obj is None or obj is UNDEFINED:
        raise ExpressionError(
            f"Cannot read property {to_text(key)!r} of {to_text(obj) or 'undefined'}", expression
        )
    return UNDEFINED


def evaluate_tree(node: tuple, scope: dict, budget: Budget) -> Any:
    budget.spend()
    kind = node[0]
    expression = budget.expression
    if kind == "lit":
        return node[1]
    if kind == "var":
        return scope.get(node[1], UNDEFINED)
    if kind == "get":
        return member(
            evaluate_tree(node[1], scope, budget), evaluate_tree(node[2], scope, budget), expression
        )
    if kind == "and":
        left = evaluate_tree(node[1], scope, budget)
        return evaluate_tree(node[2], scope, budget) if truthy(left) else left
    if kind == "or":
        left = evaluate_tree(node[1], scope, budget)
        return left if truthy(left) else evaluate_tree(node[2], scope, budget)
    if kind == "cond":
        branch = node[2] if truthy(evaluate_tree(node[1], scope, budget)) else node[3]
        return evaluate_tree(branch, scope, budget)
    if kind == "unary":
        value = evaluate_tree(node[2], scope, budget)
        if node[1] == "!":
            return not truthy(value)
        number = to_number(value)
        return numeric(-number) if node[1] == "-" else number
    if kind == "bin":
        op = node[1]
        a = evaluate_tree(node[2], scope, budget)
        b = evaluate_tree(node[3], scope, budget)
        if op in ("==", "!="):
            return loose_equal(a, b) == (op == "==")
        if op in ("===", "!=="):
            return strict_equal(a, b) == (op == "===")
        if op in ("<", "<=", ">", ">="):
            return compare(op, a, b)
        return arithmetic(op, a, b, expression)
    # "call"
    from pixhaven.render.expression_functions import FUNCTIONS

    args = [evaluate_tree(arg, scope, budget) for arg in node[2]]
    try:
        result = FUNCTIONS[node[1]](budget, *args)
    except TypeError:
        raise ExpressionError(f"Wrong number of arguments for {node[1]}()", expression) from None
    return bounded(result, expression)


def evaluate(expression: str, scope: dict, budget: Budget | None = None) -> Any:
    """The value of one expression over `scope` (variable name → JSON value)."""
    budget = budget or Budget()
    tree = parse(expression)
    budget.expression = expression
    try:
        return evaluate_tree(tree, scope, budget)
    except ExpressionError as exc:
        if exc.expression != expression:  # a function's own refusal, named by the caller
            raise ExpressionError(exc.reason, expression) from None
        raise
    except RecursionError:
        raise ExpressionError("Expression nested too deeply", expression) from None
