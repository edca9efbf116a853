"""Pictify's `{{ }}` expression language (the spec is Pictify's concepts/expressions.mdx):
the tree-walking evaluator, over the syntax trees of expression_syntax.py (tokenizer and
parser) and the JavaScript value rules of expression_values.py.

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

from typing import Any

from pixhaven.render.expression_functions import FUNCTIONS
from pixhaven.render.expression_syntax import parse
from pixhaven.render.expression_values import (
    UNDEFINED,
    Budget,
    ExpressionError,
    arithmetic,
    bounded,
    compare,
    loose_equal,
    member,
    numeric,
    strict_equal,
    to_number,
    truthy,
)


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
