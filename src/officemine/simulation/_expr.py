"""The `when` language of scenarios: a small, safe expression over case attributes.

``amount < 5000``, ``urgency == "紧急"``, ``process_type in ["费用报销", "用印"] and not
金额 >= 100000``: comparisons (chained too), ``and``/``or``/``not``, names of case columns
(English or the usual Chinese header), and literals (strings, numbers, booleans, lists of
them after ``in``). The text is parsed with :mod:`ast` and every node is checked against this
whitelist; nothing is ever evaluated by Python. Evaluation is vectorised over a frame with
one row per case; a comparison with a missing value is false.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from officemine.base.errors import ExpressionError
from officemine.log.schema import C

#: Chinese names a manager may write for case columns.
ALIASES: dict[str, str] = {
    "金额": C.amount, "紧急程度": C.urgency, "流程类型": C.process_type,
    "申请人": C.applicant, "申请部门": C.applicant_dept, "标题": C.title,
}

_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
           ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in"}


#: Deepest nesting of and/or/not a `when` expression may have. A real rule nests two or
#: three levels; the bound keeps a crafted scenario from exhausting the parser's or the
#: checker's recursion (a RecursionError instead of a message). Python's parser itself
#: refuses brackets nested over 200 deep, with a SyntaxError.
MAX_DEPTH = 50
#: Longest `when` text: a real rule is a line, or a list of some hundred names after 'in'.
MAX_LENGTH = 100_000


def clipped(text: object, limit: int = 80) -> str:
    """`text` for a message: its repr, cut in the middle when longer than `limit`."""
    shown = repr(text)
    if len(shown) <= limit:
        return shown
    half = (limit - 1) // 2
    return f"{shown[:half]}…{shown[-half:]} ({len(str(text)):,} characters)"


@dataclass(frozen=True)
class Comparison:
    """One ``column <op> literal`` test found in an expression (for validation)."""

    column: str
    op: str
    value: object


@dataclass(frozen=True)
class WhenExpr:
    """A parsed, checked `when` expression; ``names`` are the canonical columns it reads."""

    text: str
    tree: ast.Expression = field(repr=False, compare=False)
    names: tuple[str, ...]
    comparisons: tuple[Comparison, ...] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> "WhenExpr":
        if not isinstance(text, str) or not text.strip():
            raise ExpressionError("is empty")
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"is {len(text):,} characters long; at most {MAX_LENGTH:,}")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as err:
            raise ExpressionError(f"is not a valid expression ({err.msg})") from None
        except (RecursionError, MemoryError):  # nested 'not' or operators the parser gave up on
            raise ExpressionError(f"nests more than {MAX_DEPTH} levels deep") from None
        names: list[str] = []
        comparisons: list[Comparison] = []
        _check(tree.body, names, comparisons)
        return cls(text.strip(), tree, tuple(dict.fromkeys(names)), tuple(comparisons))

    def evaluate(self, cases: pd.DataFrame) -> np.ndarray:
        """Boolean array, one per row of ``cases`` (columns named as in ``names``)."""
        out = _eval(self.tree.body, cases)
        return np.broadcast_to(np.asarray(out, dtype=bool), (len(cases),)).copy()

    def __str__(self) -> str:
        return self.text


def _name(node: ast.Name) -> str:
    return ALIASES.get(node.id, node.id)


def _literal(node: ast.AST, *, allow_list: bool) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            isinstance(node.operand, ast.Constant) and \
            isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    if allow_list and isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return tuple(_literal(e, allow_list=False) for e in node.elts)
    raise ExpressionError(f"uses {_describe(node)} where a literal (text in quotes, a number, "
                          "true/false" + (", or a list after 'in'" if allow_list else "") + ") is expected")


def _describe(node: ast.AST) -> str:
    what = {ast.Call: "a function call", ast.Attribute: "attribute access (.)",
            ast.BinOp: "arithmetic", ast.Subscript: "indexing ([])", ast.Lambda: "lambda",
            ast.IfExp: "if/else", ast.Dict: "a dict", ast.Name: "a column name",
            ast.Constant: "a literal"}
    for kind, text in what.items():
        if isinstance(node, kind):
            return text
    return type(node).__name__


def _check(node: ast.AST, names: list[str], comparisons: list[Comparison],
           depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ExpressionError(f"nests more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names, comparisons, depth + 1)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, names, comparisons, depth + 1)
    elif isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:]):
            if type(op) not in _SYMBOL:
                raise ExpressionError(f"uses the operator {type(op).__name__}; allowed: "
                                      + ", ".join(_SYMBOL.values()))
            symbol = _SYMBOL[type(op)]
            if symbol in ("in", "not in"):
                if not isinstance(left, ast.Name):
                    raise ExpressionError(f"needs a column name before '{symbol}'")
                value = _literal(right, allow_list=True)
                if not isinstance(value, tuple):
                    raise ExpressionError(f"needs a list like [\"a\", \"b\"] after '{symbol}'")
                names.append(_name(left))
                comparisons.append(Comparison(_name(left), symbol, value))
                continue
            sides = [isinstance(left, ast.Name), isinstance(right, ast.Name)]
            if sides == [True, True]:
                raise ExpressionError("compares two columns; compare a column with a literal")
            if sides == [False, False]:
                _literal(left, allow_list=False)
                _literal(right, allow_list=False)
                raise ExpressionError("compares two literals; name a case column")
            column, other = (left, right) if sides[0] else (right, left)
            value = _literal(other, allow_list=False)
            names.append(_name(column))
            comparisons.append(Comparison(_name(column), symbol, value))
    elif isinstance(node, ast.Name):
        raise ExpressionError(f"uses the column {node.id!r} on its own; compare it with a "
                              "value, e.g. urgency == \"紧急\"")
    else:
        raise ExpressionError(f"uses {_describe(node)}, which is not allowed (only "
                              "comparisons, and/or/not, column names and literals)")


def _operand(node: ast.AST, cases: pd.DataFrame):
    if isinstance(node, ast.Name):
        return cases[_name(node)]
    return _literal(node, allow_list=True)


def _eval(node: ast.AST, cases: pd.DataFrame):
    if isinstance(node, ast.BoolOp):
        parts = [np.asarray(_eval(v, cases), dtype=bool) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for part in parts[1:]:
            out = combine(out, part)
        return out
    if isinstance(node, ast.UnaryOp):
        return ~np.asarray(_eval(node.operand, cases), dtype=bool)
    # Compare (the only other node _check lets through)
    operands = [node.left, *node.comparators]
    out = np.ones(len(cases), dtype=bool)
    for op, left, right in zip(node.ops, operands, operands[1:]):
        a, b = _operand(left, cases), _operand(right, cases)
        if isinstance(op, (ast.In, ast.NotIn)):
            hit = a.isin(list(b)).fillna(False).to_numpy(dtype=bool)
            res = hit if isinstance(op, ast.In) else (~hit & a.notna().to_numpy(dtype=bool))
        else:
            res = _COMPARE[type(op)](a, b)
            res = pd.Series(res).fillna(False).to_numpy(dtype=bool)
        out &= res
    return out
