"""Step through backprop of a scalar expression from the shell.

    python -m minigrad.stepper "tanh(x*w + b)" x=2 w=-3 b=6.8814 [--html page.html]
                                                                   [--svg graph.svg]

The expression is parsed with Python's `ast` and built node by node from a whitelist:
numbers, the named variables, + - * / ** (with a number exponent), unary -, and the calls
exp log tanh sigmoid relu sqrt. It is never evaluated as Python. Anything else is a one-line
error on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import ast
import math
import re
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from .value import Value

FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "exp": Value.exp, "log": Value.log, "tanh": Value.tanh,
    "sigmoid": Value.sigmoid, "relu": Value.relu, "sqrt": Value.sqrt,
}
MAX_LENGTH = 2000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ExpressionError(ValueError):
    """The expression or a variable assignment is not allowed or cannot be computed."""


Number = Value | float


def _binary(op: ast.operator, a: Number, b: Number) -> Number:
    if isinstance(op, ast.Add):
        return a + b
    if isinstance(op, ast.Sub):
        return a - b
    if isinstance(op, ast.Mult):
        return a * b
    if isinstance(op, ast.Div):
        if isinstance(b, float) and b == 0.0:
            raise ExpressionError("division by zero")
        return a / b
    if isinstance(op, ast.Pow):
        if isinstance(b, Value):
            raise ExpressionError("the exponent of ** must be a number, not an expression "
                                  "with variables")
        if isinstance(a, float):
            if abs(b) > 1e4:
                raise ExpressionError(f"exponent {b:g} is too large")
            result = a ** b
            if isinstance(result, complex):
                raise ExpressionError(f"{a:g} ** {b:g} is not a real number")
            return result
        return a ** b
    raise ExpressionError(f"operator {type(op).__name__} is not allowed "
                          f"(use + - * / **)")


def build(expression: str, variables: dict[str, float]) -> Value:
    """Build `expression` as a `Value` graph; each variable becomes a Value labelled with its
    name. Raises ExpressionError for anything outside the whitelist."""
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"syntax error: {err.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression is nested too deeply or malformed") from None
    leaves = {name: Value(v, label=name) for name, v in variables.items()}

    def visit(node: ast.AST) -> Number:
        if isinstance(node, ast.Constant):
            if type(node.value) in (int, float):
                return float(node.value)
            raise ExpressionError(f"constant {node.value!r} is not allowed (only numbers)")
        if isinstance(node, ast.Name):
            if node.id in leaves:
                return leaves[node.id]
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it as {node.id}(...)")
            raise ExpressionError(f"unknown name {node.id!r}: give it a value, e.g. "
                                  f"{node.id}=1.5")
        if isinstance(node, ast.BinOp):
            return _binary(node.op, visit(node.left), visit(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -visit(node.operand)
            if isinstance(node.op, ast.UAdd):
                return visit(node.operand)
            raise ExpressionError(f"unary operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.Call):
            func = node.func
            if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
                what = func.id if isinstance(func, ast.Name) else type(func).__name__.lower()
                raise ExpressionError(f"call of {what!r} is not allowed (allowed: "
                                      f"{' '.join(FUNCTIONS)})")
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise ExpressionError(f"{func.id}() takes exactly one argument")
            arg = visit(node.args[0])
            if isinstance(arg, float):      # a function of a number is a number
                return FUNCTIONS[func.id](Value(arg)).data
            return FUNCTIONS[func.id](arg)
        if isinstance(node, ast.Attribute):
            raise ExpressionError("attribute access is not allowed")
        if isinstance(node, ast.Subscript):
            raise ExpressionError("subscripts are not allowed")
        if isinstance(node, ast.Lambda):
            raise ExpressionError("lambda is not allowed")
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")

    try:
        out = visit(tree.body)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as err:
        if isinstance(err, ExpressionError):
            raise
        raise ExpressionError(str(err)) from None
    if not isinstance(out, Value):
        raise ExpressionError("the expression has no variables: nothing to differentiate")
    return out


def parse_assignment(text: str) -> tuple[str, float]:
    """`name=number` -> (name, value)."""
    name, sep, number = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name):
        raise ExpressionError(f"expected name=number, got {text!r}")
    if name in FUNCTIONS:
        raise ExpressionError(f"{name!r} is a function name, not a variable")
    try:
        value = float(number)
    except ValueError:
        raise ExpressionError(f"{name}: {number.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ExpressionError(f"{name}: the value must be a finite number")
    return name, value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail(message)


def _fail(message: str) -> NoReturn:
    print(f"minigrad.stepper: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: build, step through, then backward and write the pictures."""
    parser = _Parser(
        prog="python -m minigrad.stepper",
        description="Step through backprop of a scalar expression, one node at a time.",
        epilog='example: python -m minigrad.stepper "tanh(x*w + b)" x=2 w=-3 b=6.8814')
    parser.add_argument("expression", help="e.g. 'tanh(x*w + b)'")
    parser.add_argument("values", nargs="*", metavar="name=number",
                        help="a value for each variable")
    parser.add_argument("--html", metavar="PATH", help="also write the HTML stepper page")
    parser.add_argument("--svg", metavar="PATH", help="also write an SVG of the graph after "
                        "backward")
    parser.add_argument("--no-wait", action="store_true",
                        help="do not wait for Enter between steps")
    args = parser.parse_args(argv)
    try:
        variables = dict(parse_assignment(a) for a in args.values)
        root = build(args.expression, variables)
    except ExpressionError as err:
        _fail(str(err))
    if not root.label:
        root.label = "out" if "out" not in variables else "result"

    from .viz import GraphvizNotFound, save_backprop_html, save_svg, step_through

    interactive = False if args.no_wait else None
    step_through(root, sys.stdout, interactive=interactive)
    try:
        if args.html:
            save_backprop_html(root, args.html)
        root.backward()
        print()
        print(f"{root.label} = {root.data:.6g}")
        for name in variables:
            leaf = _leaf(root, name)
            if leaf is not None:
                print(f"d{root.label}/d{name} = {leaf.grad:.6g}")
        if args.svg:
            save_svg(root, args.svg)
    except GraphvizNotFound as err:
        _fail(str(err))
    except OSError as err:
        _fail(f"cannot write a file: {err}")
    if args.html:
        print(f"wrote {args.html}")
    if args.svg:
        print(f"wrote {args.svg}")
    return 0


def _leaf(root: Value, name: str) -> Value | None:
    """The variable leaf labelled `name` (None if the expression does not use it)."""
    from .viz.names import walk

    for node in walk(root):
        if not node.op and node.label == name:
            return node
    return None


if __name__ == "__main__":
    sys.exit(main())
