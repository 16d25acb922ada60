"""Find provider calls (network round trips) made while the caller's transaction holds locks or writes.

A provider can take seconds to answer, or time out after thirty. A row lock or an uncommitted write held
meanwhile blocks every other request for that row (the bill, the payment, the break) for as long, so a
provider is asked first and the answer written after, or the call runs between two transactions
(``core.outbox.OutsideEffect``, ``payments.checkout``'s phases).

The check reads the source, one module at a time. A call is suspect when, in the same function, it is
inside a ``with ….begin()`` block, or it follows a statement that locks or writes, or it sits in a loop
that also writes (the second round's call then waits on the first round's writes). Calls of a module's own
functions that reach a provider count as provider calls, so a helper does not hide one.
"""

from __future__ import annotations

import ast
from pathlib import Path

#: The methods of ``payments.providers.base.PaymentProvider`` (and Stripe's payout listing) that go out.
PROVIDER_CALLS = frozenset({"create_session", "fetch_status", "cancel_session", "refund", "payouts_report"})
#: Calls that take a row lock or write in the caller's transaction.
WRITES = frozenset({"flush", "add", "add_all", "with_for_update", "post", "stage_job", "annotate", "transition",
                    "transition_refund", "transition_bill", "apply_report"})


def _name(call: ast.Call) -> str:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def _writes(name: str) -> bool:
    return name in WRITES or name.startswith(("lock_", "_lock_", "_note"))


def _calls(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


class _Module:
    def __init__(self, tree: ast.Module):
        self.functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        self.reaching = {name for name, f in self.functions.items() if self._direct(f)}
        self.writing = {name for name, f in self.functions.items() if any(_writes(_name(c)) for c in _own_calls(f))}
        changed = True
        while changed:  # a function reaches a provider (or writes) if one of ours it calls does
            changed = False
            for name, function in self.functions.items():
                called = {_name(c) for c in _own_calls(function)}
                for found in (self.reaching, self.writing):
                    if name not in found and called & found:
                        found.add(name)
                        changed = True

    @staticmethod
    def _direct(function: ast.AST) -> bool:
        return any(isinstance(c.func, ast.Attribute) and c.func.attr in PROVIDER_CALLS for c in _own_calls(function))

    def goes_out(self, call: ast.Call) -> bool:
        function = call.func
        if isinstance(function, ast.Attribute) and function.attr in PROVIDER_CALLS:
            return True
        return isinstance(function, ast.Name) and function.id in self.reaching

    def writes(self, call: ast.Call) -> bool:
        name = _name(call)
        return _writes(name) or (isinstance(call.func, ast.Name) and name in self.writing)


def suspect_calls(path: Path, root: Path) -> list[str]:
    """``file:line function`` of each provider call in ``path`` made holding locks or writes."""
    module = _Module(ast.parse(path.read_text(encoding="utf-8")))
    found = []
    for name, function in module.functions.items():
        for line in _suspect_lines(module, function):
            found.append(f"{path.relative_to(root).as_posix()}:{line} {name}")
    return found


def _suspect_lines(module: _Module, function: ast.AST) -> set[int]:
    lines = set()
    outgoing = [c for c in _own_calls(function) if module.goes_out(c)]
    written = [c.lineno for c in _own_calls(function) if module.writes(c) and not module.goes_out(c)]
    for call in outgoing:
        if any(line < call.lineno for line in written):
            lines.add(call.lineno)
    for node in _own_nodes(function):
        if isinstance(node, ast.With | ast.AsyncWith) and any(
                isinstance(i.context_expr, ast.Call) and _name(i.context_expr) == "begin" for i in node.items):
            lines |= {c.lineno for c in _calls(node) if module.goes_out(c)}
        if isinstance(node, ast.For | ast.While):
            body = _calls(node)
            if any(module.goes_out(c) for c in body) and any(module.writes(c) for c in body):
                lines |= {c.lineno for c in body if module.goes_out(c)}
    return lines


def _own_nodes(function: ast.AST):
    """The nodes of ``function``'s body outside any function defined inside it (decorators are not its own)."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _own_calls(function: ast.AST) -> list[ast.Call]:
    return [n for n in _own_nodes(function) if isinstance(n, ast.Call)]
