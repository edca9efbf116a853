"""Pictify's expression test routes (concepts/expressions.mdx, "Testing Expressions"):
check an expression's syntax, evaluate one over sample variables, list the functions."""

from __future__ import annotations

import math
from typing import Any

from pixhaven.errors import invalid
from pixhaven.render.expression_functions import CATALOGUE
from pixhaven.render.expression_syntax import parse
from pixhaven.render.expression_values import UNDEFINED, Budget, ExpressionError, format_number
from pixhaven.render.expressions import evaluate


def _expression(body: Any) -> str:
    expression = body.get("expression") if isinstance(body, dict) else None
    if not isinstance(expression, str):
        raise invalid("expression must be a string", field="expression", as_list=True)
    return expression


def _variables(body: dict) -> dict:
    """The body's `variables`: absent or null is none; anything but an object is a 400 (not
    read as none: `false` or `[]` are a client's mistake, and the document says object)."""
    variables = body.get("variables")
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise invalid("variables must be an object of name: value", field="variables", as_list=True)
    return variables


def validate(body: Any) -> dict:
    """`{valid, expression}`, and the reason when it is not valid."""
    expression = _expression(body)
    _variables(body)  # not read here, but held to the same shape as /test's
    try:
        parse(expression)
    except ExpressionError as exc:
        return {"valid": False, "expression": expression, "error": str(exc)}
    return {"valid": True, "expression": expression}


def result_type(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def evaluate_sample(body: Any) -> dict:
    """`{success: true, result, resultType}` of the expression over `variables`, or, like
    `validate`, `{success: false, expression, error}` naming what failed."""
    expression = _expression(body)
    variables = _variables(body)
    try:
        value = evaluate(expression, variables, Budget())
    except ExpressionError as exc:
        return {"success": False, "expression": exc.expression, "error": str(exc)}
    kind = result_type(value)
    if value is UNDEFINED:
        value = None
    elif isinstance(value, float) and not math.isfinite(value):  # JSON has no Infinity
        value = format_number(value)
    return {"success": True, "result": value, "resultType": kind}


def functions() -> dict:
    return {
        "functions": [
            {"name": signature.split("(")[0], "signature": signature, "category": category}
            for category, signatures in CATALOGUE.items()
            for signature in signatures
        ]
    }
