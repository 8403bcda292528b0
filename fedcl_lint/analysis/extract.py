"""Extraction: one file's bytes in, its facts out (parsed, never executed).

This is a pure function of the source bytes and the rule pack, so it can run in
worker processes and be cached by content hash. It settles every name that can
be settled inside the file (parameters, local variables, `self.X`) and leaves
module-level names to the link stage.

Analysis parses with Python's own parser (`ast`): it accepts exactly the files
Python accepts, gives every node its position for free, and is an order of
magnitude faster than libcst, whose concrete tree (and the code generation it
needs for positions) is kept for what needs it: rewriting files (`--fix`).
"""

from __future__ import annotations

import ast
import codecs
import re
import string
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from fedcl_lint.analysis.facts import (
    Assignment,
    AttributeStore,
    AttrRef,
    AwaitedAttribute,
    Call,
    CallResult,
    ClassFacts,
    Construction,
    DictEnvelope,
    DispatchCase,
    Either,
    Elements,
    Entered,
    EnumAuto,
    Expr,
    FString,
    FunctionFacts,
    GetAttr,
    ImportBinding,
    Instance,
    Items,
    Join,
    LambdaRef,
    Literal,
    LocalRef,
    LoopItem,
    Mapping,
    ModuleFacts,
    NameRef,
    Opaque,
    Param,
    ParamRef,
    ParseFailure,
    PartialRef,
    Payload,
    Position,
    Received,
    SelfAttrRef,
    Suppression,
    Typed,
)
from fedcl_lint.analysis.suppression_comments import parse_suppressions
from fedcl_lint.settings.rulepack import RulePack

_MAX_EXPRESSION_DEPTH = 200
_MAX_ELEMENTS = 256  # the most elements of a literal a loop's sites are made for
_MAX_INT_BITS = 3_322  # 1,000 decimal digits: an int literal longer than that is no message type
_CONSTANT_KINDS = {bool: "a bool", float: "a float", complex: "a complex number"}  # None and `...` say themselves


def extract(source: bytes, pack: RulePack) -> ModuleFacts:
    """Return the facts of one Python file, or a `ParseFailure` saying where it broke."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as in `extract_each`
        return _extract(source, pack)


def extract_each(sources: Iterable[bytes], pack: RulePack) -> Iterator[ModuleFacts]:
    """The facts of each source in turn, as `extract` gives them, under one warnings filter
    for them all (setting it for each file cost 1 to 2% of parsing it)."""
    with warnings.catch_warnings():
        # the analysed code's own SyntaxWarnings (e.g. "invalid escape sequence") are not ours to print
        warnings.simplefilter("ignore")
        for source in sources:
            yield _extract(source, pack)


def _extract(source: bytes, pack: RulePack) -> ModuleFacts:
    text, failure = decode(source)
    if failure is not None:
        return ModuleFacts(failure=failure)
    tree, failure = _parse(text)
    if tree is None:
        return ModuleFacts(failure=failure)
    collector = _Collector(pack, _Source(text))
    collector.walk(tree)
    return collector.facts(parse_suppressions(text))


def parse(text: str) -> tuple[ast.Module | None, ParseFailure | None]:
    """Parse (only parse: nothing is compiled or run), locating any failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as in `extract_each`
        return _parse(text)


def _parse(text: str) -> tuple[ast.Module | None, ParseFailure | None]:
    try:
        return ast.parse(text), None
    except SyntaxError as exc:
        if exc.lineno is None and "\0" in text:  # Python 3.11.4 and later: null bytes, not located
            return None, ParseFailure(f"cannot parse: {exc.msg}", _null_byte(text))
        return None, ParseFailure(f"syntax error: {exc.msg}", (exc.lineno or 1, exc.offset or 1))
    except ValueError as exc:  # earlier Pythons: "source code string cannot contain null bytes"
        return None, ParseFailure(f"cannot parse: {exc}", _null_byte(text))
    except (RecursionError, MemoryError):
        return None, ParseFailure("cannot parse: the file is nested too deeply for Python's parser", (1, 1))


_Seen = frozenset[tuple[str | None, str]]  # the (scope, name) a conversion went through: a loop ends there


class _Located(Protocol):
    """A node with a place in the source: expressions, statements, patterns, aliases..."""

    @property
    def lineno(self) -> int: ...
    @property
    def col_offset(self) -> int: ...
    @property
    def end_lineno(self) -> int | None: ...
    @property
    def end_col_offset(self) -> int | None: ...


class _Source:
    """The file's text, for 1-based character columns (ast counts UTF-8 bytes) and snippets."""

    def __init__(self, text: str):
        self.text = text
        self.ascii = text.isascii()
        self._lines: list[bytes] | None = None

    def position(self, node: _Located) -> Position:
        line, offset = node.lineno, node.col_offset
        if self.ascii:
            return line, offset + 1
        return line, len(self._line(line)[:offset].decode("utf-8", "replace")) + 1

    def end(self, node: _Located) -> Position:
        """Where the node ends: the 1-based line and column just after its last character."""
        line, offset = node.end_lineno or node.lineno, node.end_col_offset
        if offset is None:
            return self.position(node)
        if self.ascii:
            return line, offset + 1
        return line, len(self._line(line)[:offset].decode("utf-8", "replace")) + 1

    def segment(self, node: _Located) -> str:
        """The node's source text, as written."""
        first, last = node.lineno, node.end_lineno or node.lineno
        if first == last:
            return self._line(first)[node.col_offset:node.end_col_offset].decode("utf-8", "replace")
        parts = [self._line(first)[node.col_offset:]]
        parts += [self._line(n) for n in range(first + 1, last)]
        parts.append(self._line(last)[: node.end_col_offset])
        return b"\n".join(parts).decode("utf-8", "replace")

    def _line(self, number: int) -> bytes:
        if self._lines is None:
            self._lines = self.text.encode("utf-8").splitlines()
        return self._lines[number - 1] if 0 < number <= len(self._lines) else b""


def _null_byte(text: str) -> Position:
    """Where the first null byte of `text` is (1-based line and column), else 1:1."""
    offset = text.find("\0")
    if offset < 0:
        return (1, 1)
    return (text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def decode(source: bytes) -> tuple[str, ParseFailure | None]:
    """Decode by the file's BOM or coding cookie (PEP 263) as Python does, locating any failure."""
    first_line_end = source.find(b"\n")
    second_line_end = source.find(b"\n", first_line_end + 1) if first_line_end >= 0 else -1
    if b"coding" not in (source if second_line_end < 0 else source[:second_line_end]) \
            and not source.startswith(codecs.BOM_UTF8):
        try:
            return source.decode("utf-8"), None  # no cookie, no BOM: what almost every file is
        except UnicodeDecodeError:
            pass  # located below
    bom = source.startswith(codecs.BOM_UTF8)
    cookie, cookie_line = _coding_cookie(source[len(codecs.BOM_UTF8):] if bom else source)
    if bom and cookie is not None and _normal_encoding(cookie) != "utf-8":
        return "", ParseFailure(f"cannot decode: the coding cookie says {cookie!r} after a UTF-8 BOM", (cookie_line, 1))
    encoding = "utf-8-sig" if bom else (cookie or "utf-8")
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        return "", ParseFailure(f"cannot decode: unknown encoding {encoding!r}", (cookie_line, 1))
    if not getattr(codec, "_is_text_encoding", True):  # rot13, base64...: codecs, not encodings
        return "", ParseFailure(f"cannot decode: {encoding!r} is not a text encoding", (cookie_line, 1))
    try:
        return source.decode(encoding), None
    except UnicodeDecodeError as exc:
        start = exc.start + (len(codecs.BOM_UTF8) if bom else 0)  # utf-8-sig counts after the BOM
        line_start = source.rfind(b"\n", 0, start) + 1
        column = len(source[line_start:start].decode(encoding, errors="replace")) + 1  # in characters
        line = source.count(b"\n", 0, start) + 1
        return "", ParseFailure(f"cannot decode as {encoding}: {exc.reason}", (line, column))


_CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")


def _coding_cookie(source: bytes) -> tuple[str | None, int]:
    """The encoding a cookie on line 1 or 2 declares (None if there is none), and its line."""
    for number, line in enumerate(source.split(b"\n", 2)[:2], start=1):
        match = _CODING_COOKIE.match(line)
        if match:
            return match.group(1).decode("ascii", "replace"), number
        if not _BLANK_OR_COMMENT.match(line):
            break
    return None, 1


def _normal_encoding(name: str) -> str:
    """Python's own spelling check for a cookie next to a BOM: only utf-8 (any case, - or _) passes."""
    normal = name[:12].lower().replace("_", "-")
    return "utf-8" if normal == "utf-8" or normal.startswith("utf-8-") else normal


# --- scopes ---------------------------------------------------------------------------------


# The walk's own records are plain classes with slots: a file makes hundreds of them, and a
# dataclass would cost more to create at import than these ever cost to use.


class _Binding:
    """One binding of a name in a scope: `value` is None when it is not `name = value` (or the
    `with` statement's context); `hint` is the annotation of `name: hint = value`; `loop` the `for`
    statement that binds it, and its place in a `for key, value in ...` target (None: the whole)."""

    __slots__ = ("value", "position", "how", "hint", "loop", "element")

    def __init__(self, value: ast.expr | None, position: Position, how: str, hint: ast.expr | None = None,
                 loop: tuple[ast.For | ast.AsyncFor, int | None] | None = None,
                 element: tuple[ast.Call, int] | None = None):
        self.value = value
        self.position = position
        self.how = how
        self.hint = hint
        self.loop = loop
        self.element = element  # `a, b = f()`: the call, and the name's place in its result


class _Scope:
    """A module, class or function (lambdas included) and the names it binds."""

    __slots__ = ("kind", "qualname", "parent", "signature", "self_param", "class_name", "params", "bindings",
                 "globals", "nonlocals", "returns")

    def __init__(self, kind: str, qualname: str | None, parent: _Scope | None, signature: tuple[Param, ...] = (),
                 self_param: str | None = None, class_name: str | None = None):
        self.kind = kind  # "module", "class", "function"
        self.qualname = qualname
        self.parent = parent
        self.signature = signature
        self.self_param = self_param
        self.class_name = class_name
        self.params = frozenset([p.name for p in signature])
        self.bindings: dict[str, list[_Binding]] = {}
        self.globals: frozenset[str] = frozenset()  # grown by `global` statements
        self.nonlocals: frozenset[str] = frozenset()
        self.returns: list[ast.expr] = []  # the values of its `return` statements (typing only)

    def bind(self, name: str, binding: _Binding) -> None:
        if name in self.bindings:
            self.bindings[name].append(binding)
        else:
            self.bindings[name] = [binding]


class _PendingAttribute:
    """`self.name = value` or `self.name: hint` in a method of the top-level class `class_name`, or
    `name: hint` in its body: what the class's instances hold (typing only)."""

    __slots__ = ("class_name", "name", "value", "hint", "scope")

    def __init__(self, class_name: str, name: str, value: ast.expr | None, hint: ast.expr | None, scope: _Scope):
        self.class_name = class_name
        self.name = name
        self.value = value
        self.hint = hint
        self.scope = scope


class _PendingPayload:
    __slots__ = ("key", "value", "node", "scope")

    def __init__(self, key: str, value: ast.expr, node: ast.Dict, scope: _Scope):
        self.key = key
        self.value = value
        self.node = node
        self.scope = scope


class _PendingDispatch:
    __slots__ = ("subject", "values", "scope")

    def __init__(self, subject: ast.expr, values: Sequence[tuple[ast.expr, _Located]], scope: _Scope):
        self.subject = subject
        self.values = values  # (value, node whose position the case takes)
        self.scope = scope


_ENUM_AUTO_NAMES = {"auto"}
_PARTIAL_NAMES = {"partial"}
_SCOPE_NODES = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# Nodes no visitor needs and that hold nothing a visitor needs: most nodes of a tree are
# these, and not pushing them makes the walk three times faster.
_LEAVES = (ast.Constant, ast.Name, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.alias)
_LEAF_TYPES = frozenset(
    {ast.Constant, ast.Name, ast.alias}
    | {kind for base in _LEAVES[2:-1] for kind in base.__subclasses__()}
)


_VISIT_NODE, _ENTER_SCOPE, _LEAVE_SCOPE = "visit", "enter", "leave"


def _outside_parts(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.AST]:
    """The children of a function, lambda or class that Python evaluates in the enclosing scope."""
    parts: list[ast.AST]
    if isinstance(node, ast.ClassDef):
        parts = [*node.decorator_list, *node.bases, *node.keywords]
    elif isinstance(node, ast.Lambda):
        parts = [node.args]
    else:
        parts = [*node.decorator_list, node.args, *([node.returns] if node.returns is not None else [])]
    return [part for part in parts if not isinstance(part, _LEAVES)]


def _branches(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes(node)` without the leaves, as a list."""
    children: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            children.extend(item for item in value if isinstance(item, ast.AST) and not isinstance(item, _LEAVES))
        elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
            children.append(value)
    return children


class _Collector:
    """Walks one module once, remembering raw nodes; `facts()` converts them at the end,
    when every scope's bindings are known."""

    def __init__(self, pack: RulePack, source: _Source):
        self.pack = pack
        self.source = source
        self.module_scope = _Scope("module", None, None)
        self.scope = self.module_scope
        self.classes: list[tuple[ast.ClassDef, _Scope]] = []
        self.functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, _Scope, str]] = []  # and qualnames
        self.imports: dict[str, ImportBinding] = {}
        self.star_imports: list[tuple[str, int]] = []
        self.calls: list[tuple[ast.Call, _Scope, bool]] = []  # each call, its scope, whether bare
        self.payloads: list[_PendingPayload] = []
        self.dispatches: list[_PendingDispatch] = []
        self.attributes: list[_PendingAttribute] = []
        self.stores: list[tuple[ast.Attribute, ast.expr, _Scope]] = []  # `msg.type = X`: see `AttributeStore`
        self.awaited: list[tuple[ast.expr, _Scope]] = []  # `await x`, when a proxy sends for `await x.attr`
        self.decorations: list[tuple[ast.Call, str]] = []  # a decorator of the pack, and the function below
        self.loop_names: set[str] = set()  # the names loops iterate over (`for k in NAME`, `NAME.items()`)
        self._bare_call: ast.Call | None = None  # the value of the expression statement being walked
        self._compared = bool(pack.dispatch_keys or pack.receive_names)  # comparisons can be handlers

    # the walk: every node once, in source order (pre-order, fields in order)

    def walk(self, tree: ast.Module) -> None:
        """Visit every node in source order, as `_walk_generic` does, faster.

        One loop with a stack walks a block of statements and the expressions in them
        (`a + b + ...` nests without limit); the statements that hold blocks of their own
        (definitions, loops, conditions...) walk them by recursion, which Python's parser
        bounds (it refuses more than 100 levels of indentation). The common nodes have a walk
        of their own that knows where their children are; the rest, and anything new in the
        grammar, are visited the generic way.
        """
        self._statements(tree.body)

    def _statements(self, body: list[ast.stmt]) -> None:
        if body:
            self._walk_nodes(body[::-1])

    def _walk_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit_AugAssign(node)
        self._expressions([node.target, node.value])

    def _walk_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit_AnnAssign(node)
        self._expressions([node.target, node.annotation, node.value])

    def _walk_If(self, node: ast.If | ast.While) -> None:
        self._expressions([node.test])
        self._statements(node.body)
        self._statements(node.orelse)

    def _walk_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit_For(node)
        self._expressions([node.target, node.iter])
        self._statements(node.body)
        self._statements(node.orelse)

    def _walk_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit_withitem(item)
            self._expressions([item.context_expr, item.optional_vars])
        self._statements(node.body)

    def _walk_Try(self, node: ast.Try) -> None:
        self._statements(node.body)
        for handler in node.handlers:
            self.visit_ExceptHandler(handler)
            self._expressions([handler.type])
            self._statements(handler.body)
        self._statements(node.orelse)
        self._statements(node.finalbody)

    def _walk_Raise(self, node: ast.Raise) -> None:
        self._expressions([node.exc, node.cause])

    def _walk_Assert(self, node: ast.Assert) -> None:
        self._expressions([node.test, node.msg])

    def _walk_Delete(self, node: ast.Delete) -> None:
        self._expressions(node.targets)

    def _walk_nothing(self, node: ast.stmt) -> None:
        pass

    def _walk_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # decorators, defaults and annotations: in the enclosing scope
        if node.decorator_list:
            if self.pack.decorator_names:
                self.decorations += [(decorator, self._qualify(node.name)) for decorator in node.decorator_list
                                     if decorator.__class__ is ast.Call
                                     and _callee_name(decorator.func) in self.pack.decorator_names]
            self._expressions(node.decorator_list)
        self._arguments(node.args)
        if node.returns is not None:
            self._expressions([node.returns])
        outer = self.scope
        self.visit_FunctionDef(node)
        self._statements(node.body)
        type_params = getattr(node, "type_params", None)  # Python 3.12
        if type_params:
            self._expressions(type_params)
        self.scope = outer

    def _walk_ClassDef(self, node: ast.ClassDef) -> None:
        self._expressions([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)])
        outer = self.scope
        self.visit_ClassDef(node)
        self._statements(node.body)
        self._expressions(getattr(node, "type_params", ()))
        self.scope = outer

    def _arguments(self, args: ast.arguments) -> None:
        """Annotations and defaults, in the order of the fields of `ast.arguments`."""
        if not (args.defaults or args.kwonlyargs or args.posonlyargs or args.vararg or args.kwarg):
            annotations = [a.annotation for a in args.args if a.annotation is not None]  # the usual case
            if annotations:
                self._expressions(annotations)
            return
        parts: list[ast.expr | None] = [a.annotation for a in args.posonlyargs]
        parts += [a.annotation for a in args.args]
        if args.vararg is not None:
            parts.append(args.vararg.annotation)
        parts += [a.annotation for a in args.kwonlyargs]
        parts += args.kw_defaults
        if args.kwarg is not None:
            parts.append(args.kwarg.annotation)
        parts += args.defaults
        self._expressions(parts)

    def _expressions(self, nodes: Iterable[ast.AST | None]) -> None:
        """Visit `nodes` (None or leaves are skipped) and everything below them, in order."""
        stack = [node for node in nodes if node is not None and node.__class__ not in _LEAF_TYPES]
        if stack:
            stack.reverse()
            self._walk_nodes(stack)

    def _walk_nodes(self, stack: list[Any]) -> None:
        """Visit the nodes of `stack` (the last first) and everything below them, in order
        (nodes of any kind, dispatched on their class: no type that a checker follows)."""
        pop, push, leaves = stack.pop, stack.append, _LEAF_TYPES
        Attribute, Call, Assign, Expr = ast.Attribute, ast.Call, ast.Assign, ast.Expr  # noqa: N806 - fast locals
        while stack:
            node = pop()
            kind = node.__class__
            if kind is Attribute:
                value = node.value
                while value.__class__ is Attribute:  # `a.b.c`: nothing to visit until its base
                    value = value.value
                if value.__class__ not in leaves:
                    push(value)
            elif kind is Call:
                self.visit_Call(node)
                for keyword in reversed(node.keywords):
                    if keyword.value.__class__ not in leaves:
                        push(keyword.value)
                for arg in reversed(node.args):
                    if arg.__class__ not in leaves:
                        push(arg)
                func = node.func
                while func.__class__ is Attribute:  # `self.comm.send(...)`: only its base can hold more
                    func = func.value
                if func.__class__ not in leaves:
                    push(func)
            elif kind is Assign:
                self.visit_Assign(node)
                if node.value.__class__ not in leaves:
                    push(node.value)
                stack += [target for target in reversed(node.targets) if target.__class__ not in leaves]
            elif kind is Expr:
                value = node.value
                self._bare_call = value if value.__class__ is Call else None  # see `visit_Expr`
                if value.__class__ not in leaves:
                    push(value)
            elif kind is ast.Await or kind is ast.Return:
                if node.value is not None:
                    if kind is ast.Return:
                        self.scope.returns.append(node.value)
                    else:  # kept when a proxy sends for `await x.attr` (see `facts`)
                        self.awaited.append((node.value, self.scope))
                    if node.value.__class__ not in leaves:
                        push(node.value)
            else:
                self._walk_other(node, stack)

    def _walk_other(self, node: Any, stack: list[Any]) -> None:
        """The less frequent nodes of `_walk_nodes`: their children go on `stack`, last first."""
        kind, leaves = node.__class__, _LEAF_TYPES
        if kind is ast.Dict:
            self.visit_Dict(node)
            stack += [value for value in reversed(node.values) if value.__class__ not in leaves]
            stack += [key for key in reversed(node.keys) if key is not None and key.__class__ not in leaves]
        elif kind is ast.BinOp or kind is ast.Subscript:
            second, first = (node.right, node.left) if kind is ast.BinOp else (node.slice, node.value)
            stack += [child for child in (second, first) if child.__class__ not in leaves]
        elif kind is ast.List or kind is ast.Tuple:
            stack += [element for element in reversed(node.elts) if element.__class__ not in leaves]
        elif kind in _STATEMENT_WALKS:
            _STATEMENT_WALKS[kind](self, node)  # blocks of their own, or nothing below
        elif kind is ast.Lambda:
            self._walk_generic(node)  # a scope of its own
        else:
            visit = _VISIT.get(kind)
            if visit is not None:
                visit(self, node)
            children = _branches(node)
            children.reverse()
            stack += children

    def _walk_generic(self, node: ast.AST) -> None:
        """Visit `node` and everything below it, in source order, iteratively, for any node:
        the reference `walk` follows. A function's decorators, defaults and annotations and a
        class's bases run in the enclosing scope, so they are visited before the scope is entered;
        the body after."""
        stack: list[tuple[Any, str]] = [(node, _VISIT_NODE)]  # nodes of any kind
        while stack:
            current, step = stack.pop()
            if step is _LEAVE_SCOPE:
                self.scope = self.scope.parent or self.module_scope  # a scope left always has one
                continue
            if step is _VISIT_NODE and isinstance(current, _SCOPE_NODES):
                outside = _outside_parts(current)
                stack.append((current, _ENTER_SCOPE))
                stack.extend((child, _VISIT_NODE) for child in reversed(outside))
                continue
            visit = _VISIT.get(type(current))
            if visit is not None:
                visit(self, current)  # for a scope node: enters its scope
            children = _branches(current)
            if step is _ENTER_SCOPE:
                stack.append((current, _LEAVE_SCOPE))
                outside_ids = {id(child) for child in _outside_parts(current)}
                children = [child for child in children if id(child) not in outside_ids]
            stack.extend((child, _VISIT_NODE) for child in reversed(children))

    def position(self, node: _Located) -> Position:
        return self.source.position(node)

    # scopes

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        top_level = self.scope is self.module_scope
        self._bind_here(node.name, _Binding(None, self.position(node), "a class"))
        self.scope = _Scope(
            "class", self._qualify(node.name), self.scope, class_name=node.name if top_level else None
        )
        if top_level:
            self.classes.append((node, self.scope))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._bind_here(node.name, _Binding(None, self.source.position(node), "a function"))
        owner = self.scope
        self_param = None
        if owner.kind == "class" and owner.class_name and _method_kind(node) != "staticmethod":
            positional = node.args.posonlyargs or node.args.args
            self_param = positional[0].arg if positional else None
        self.scope = _Scope("function", self._qualify(node.name), owner, _parameters(node.args), self_param,
                            owner.class_name if self_param else None)
        self.functions.append((node, self.scope, self.scope.qualname or node.name))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.scope = _Scope(
            "function",
            self._qualify("<lambda>"),
            self.scope,
            signature=_parameters(node.args),
        )

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.globals = self.scope.globals.union(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.nonlocals = self.scope.nonlocals.union(node.names)

    # bindings

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self._bind_here(target.id, _Binding(node.value, self.position(target), "assignment"))
            elif target.__class__ is ast.Attribute:
                self._store_on_self(target, node.value, None)
                if target.attr in self.pack.envelope_attributes:
                    self.stores.append((target, node.value, self.scope))
            elif node.value.__class__ is ast.Call and target.__class__ in (ast.Tuple, ast.List) \
                    and all(element.__class__ is ast.Name for element in target.elts):  # `a, b = f()`
                for index, element in enumerate(target.elts):
                    assert isinstance(element, ast.Name) and isinstance(node.value, ast.Call)
                    self._bind_here(element.id, _Binding(None, self.position(element), "unpacking",
                                                         element=(node.value, index)))
            else:
                self._bind_targets(target, "unpacking")

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        target = node.target
        if isinstance(target, ast.Name):
            if node.value is not None:
                self._bind_here(target.id, _Binding(node.value, self.position(target), "assignment", node.annotation))
            elif self.scope.kind == "class" and self.scope.class_name:  # `comm: Node` in a class body
                self.attributes.append(
                    _PendingAttribute(self.scope.class_name, target.id, None, node.annotation, self.scope))
        elif isinstance(target, ast.Attribute):
            self._store_on_self(target, node.value, node.annotation)

    def _store_on_self(self, target: ast.Attribute, value: ast.expr | None, hint: ast.expr | None) -> None:
        """`self.name = value` (or annotated) in a method: remembered for its class."""
        base = target.value
        if base.__class__ is ast.Name and self.scope.kind == "function":
            class_name = _method_class_of(base.id, self.scope)
            if class_name is not None:
                self.attributes.append(_PendingAttribute(class_name, target.attr, value, hint, self.scope))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._bind_targets(node.target, "augmented assignment")

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        """A loop's variables: each element of what it iterates over, in turn (see `LoopItem`), for
        `for name in ...` and `for key, value in ...`."""
        target = node.target
        if target.__class__ is ast.Name:
            self._bind_here(target.id, _Binding(None, self.position(target), "a for loop", loop=(node, None)))
        elif target.__class__ is ast.Tuple and all(e.__class__ is ast.Name for e in target.elts):
            for index, element in enumerate(target.elts):
                assert isinstance(element, ast.Name)
                self._bind_here(element.id, _Binding(None, self.position(element), "a for loop", loop=(node, index)))
        else:
            self._bind_targets(target, "a for loop")
            return
        iterated = node.iter
        if iterated.__class__ is ast.Call and iterated.func.__class__ is ast.Attribute:  # `NAME.items()`
            iterated = iterated.func.value
        if iterated.__class__ is ast.Name:
            self.loop_names.add(iterated.id)
        elif iterated.__class__ is ast.Attribute:
            self.loop_names.add(iterated.attr)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._bind_targets(node.target, "a comprehension")

    def visit_withitem(self, node: ast.withitem) -> None:
        target = node.optional_vars
        if isinstance(target, ast.Name):  # `with Node() as node`: typed as its context (see `Entered`)
            self._bind_here(target.id, _Binding(node.context_expr, self.position(target), "a with statement"))
        elif target is not None:
            self._bind_targets(target, "a with statement")

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._bind_targets(node.target, "an assignment expression")

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name is not None:
            self._bind_here(node.name, _Binding(None, self.position(node), "a match pattern"))

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name is not None:
            self._bind_here(node.name, _Binding(None, self.position(node), "a match pattern"))

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest is not None:
            self._bind_here(node.rest, _Binding(None, self.position(node), "a match pattern"))

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_here(node.name, _Binding(None, self.position(node), "an except clause"))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname is not None:
                local, module = alias.asname, alias.name
            else:
                local = module = alias.name.split(".")[0]
            self._bind_import(local, ImportBinding(module, 0, None, self.position(alias)))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                if self.scope is self.module_scope:
                    self.star_imports.append((module, node.level))
                continue
            local = alias.asname or alias.name
            self._bind_import(local, ImportBinding(module, node.level, alias.name, self.position(alias)))

    # calls, payloads, dispatch comparisons

    def visit_Expr(self, node: ast.Expr) -> None:
        self._bare_call = node.value if node.value.__class__ is ast.Call else None

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, (ast.Name, ast.Attribute)) or (
                func.__class__ is ast.Call and _callee_name(func.func) == "getattr"):
            self.calls.append((node, self.scope, node is self._bare_call))

    def visit_Dict(self, node: ast.Dict) -> None:
        payload_keys = self.pack.payload_keys
        if not any(key.__class__ is ast.Constant and key.value in payload_keys for key in node.keys):
            return  # most dicts: no payload key at all
        keys = {
            key.value: value
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        }
        for spec in self.pack.payloads:
            if spec.key in keys and all(required in keys for required in spec.requires):
                self.payloads.append(_PendingPayload(spec.key, keys[spec.key], node, self.scope))

    def visit_Compare(self, node: ast.Compare) -> None:
        if self.scope.kind != "function" or not self._compared or len(node.ops) != 1:
            return
        [operator], [comparator] = node.ops, node.comparators
        if isinstance(operator, ast.Eq):
            # either side may be the dispatched name: `kind == "x"` or `"x" == kind`
            self.dispatches.append(_PendingDispatch(node.left, [(comparator, comparator)], self.scope))
            self.dispatches.append(_PendingDispatch(comparator, [(node.left, node.left)], self.scope))
        elif isinstance(operator, ast.In) and isinstance(comparator, (ast.Tuple, ast.List, ast.Set)):
            values = [(element, element) for element in comparator.elts]
            self.dispatches.append(_PendingDispatch(node.left, values, self.scope))

    def visit_Match(self, node: ast.Match) -> None:
        if self.scope.kind != "function" or not self._compared:
            return
        values = [value for case in node.cases for value in _match_values(case.pattern)]
        self.dispatches.append(_PendingDispatch(node.subject, values, self.scope))

    # helpers

    def _qualify(self, name: str) -> str:
        return f"{self.scope.qualname}.{name}" if self.scope.qualname else name

    def _bind_here(self, name: str, binding: _Binding) -> None:
        """Bind `name` where Python does: in this scope, or, when declared `global` or `nonlocal`,
        in the module or the enclosing function (a value set from elsewhere: not followed)."""
        if name in self.scope.globals:
            self.module_scope.bind(name, _Binding(None, binding.position, "an assignment through `global`"))
            return
        if name in self.scope.nonlocals:
            owner = self.scope.parent
            while owner is not None and owner.kind == "function" and name not in owner.bindings:
                owner = owner.parent
            if owner is not None and owner.kind == "function":
                owner.bind(name, _Binding(None, binding.position, "an assignment through `nonlocal`"))
                return
        self.scope.bind(name, binding)

    def _bind_targets(self, target: ast.expr, how: str) -> None:
        for name in _target_names(target):
            self._bind_here(name.id, _Binding(None, self.position(name), how))

    def _bind_import(self, local: str, binding: ImportBinding) -> None:
        if self.scope is self.module_scope:
            self.imports[local] = binding
            self.module_scope.bind(local, _Binding(None, binding.position, "an import"))  # rebound later?
        else:
            self.scope.bind(local, _Binding(None, binding.position, "an import inside a function"))

    # conversion, once the walk is over

    def _stored_on_instances(self, converter: _Converter) -> dict[str, dict[str, tuple[Expr, ...]]]:
        """Class name -> attribute -> what its methods store there (annotations as `Instance`): what
        can give it a class, or a literal (a message type set once, `self.topic = "train"`)."""
        stored: dict[str, dict[str, list[Expr]]] = {}
        for pending in self.attributes:
            found = stored.setdefault(pending.class_name, {}).setdefault(pending.name, [])
            hint = _annotation(pending.hint) if pending.hint is not None else None
            if hint is not None:
                found.append(hint)
            elif pending.value.__class__ in _TYPED_VALUES or pending.value.__class__ is ast.Constant:
                found.append(converter.expr(pending.value, pending.scope))  # type: ignore[arg-type]
            elif pending.value is not None:
                found.append(_UNTYPED)  # `{}`, `None`, `a or b`...: no class of the project's, or not known
        return {name: {attr: tuple(values) for attr, values in attributes.items() if values}
                for name, attributes in stored.items()}

    def _calls_that_can_matter(self) -> list[tuple[ast.Call, _Scope, bool]]:
        """The calls, less those of Python's own functions (`len(x)`, `isinstance(...)`): a call of
        a builtin that the file does not rebind can neither send nor be a wrapper. Converting them
        was a fifth of converting a typical file's calls."""
        if self.star_imports:
            return self.calls  # `from x import *` may rebind any builtin
        pack_names = self.pack.call_names_and_registrations
        kept = []
        for pending in self.calls:
            func = pending[0].func
            if func.__class__ is ast.Name and func.id in _INERT_BUILTINS and func.id not in pack_names \
                    and not _bound_around(func.id, pending[1]):
                continue
            kept.append(pending)
        return kept

    def facts(self, suppressions: tuple[Suppression, ...] = ()) -> ModuleFacts:
        converter = _Converter(self.source, self.pack, self.loop_names)
        # an imported name bound again (assigned, imported twice) has no one value; a class or
        # function of that name is what the linker finds first anyway
        rebound = {
            name for name in self.imports
            if sum(b.how not in ("a class", "a function") for b in self.module_scope.bindings[name]) > 1
        }
        constants = {
            name: converter.module_binding(name, bindings)
            for name, bindings in self.module_scope.bindings.items()
            if any(b.how != "a class" for b in bindings) and (name not in self.imports or name in rebound)
        }
        imports = {name: binding for name, binding in self.imports.items() if name not in rebound}
        stored = self._stored_on_instances(converter)
        classes = {}
        for node, scope in self.classes:
            bases = tuple(converter.expr(base, self.module_scope) for base in node.bases)
            attributes = {
                name: converter.class_attribute(name, bindings, scope)
                for name, bindings in scope.bindings.items()
                if all(b.how == "assignment" for b in bindings)
            }
            classes[node.name] = ClassFacts(
                name=node.name, position=self.position(node), bases=bases, attributes=attributes,
                instance_attributes=stored.get(node.name),
            )
        functions = {}
        for function, scope, qualname in self.functions:
            params = scope.signature
            in_class = scope.parent is not None and scope.parent.kind == "class"
            kind = _method_kind(function) if in_class else "function"
            if kind in ("method", "classmethod", "property") and params \
                    and params[0].kind in ("positional_only", "positional"):
                params = params[1:]  # the bound self / cls
            functions[qualname] = FunctionFacts(
                qualname=qualname,
                name=function.name,
                kind=kind,
                params=params,
                is_async=isinstance(function, ast.AsyncFunctionDef),
                position=self.position(function),
                returns=_returns(function, scope, converter),
            )
        return ModuleFacts(
            constants=constants,
            classes=classes,
            imports=imports,
            star_imports=tuple(self.star_imports),
            functions=functions,
            calls=tuple(converter.call(*pending) for pending in self._calls_that_can_matter()),
            payloads=tuple(
                Payload(p.key, converter.expr(p.value, p.scope), self.position(p.node), p.scope.qualname)
                for p in self.payloads
            ),
            dispatch_cases=tuple(case for d in self.dispatches for case in converter.dispatch_cases(d, self.pack))
            if self.pack.dispatch_keys else (),
            received=tuple(case for d in self.dispatches for case in converter.received(d, self.pack.receive_names))
            if self.pack.receive_names else (),
            suppressions=suppressions,
            attribute_stores=tuple(
                AttributeStore(converter.expr(target.value, scope), target.attr, converter.expr(value, scope),
                               self.position(target), scope.qualname)
                for target, value, scope in self.stores
            ),
            awaited=tuple(AwaitedAttribute(converter.expr(node.value, scope), node.attr, self.position(node),
                                           scope.qualname) for node, scope in self.awaited
                          if isinstance(node, ast.Attribute)) if self.pack.awaited_attributes else (),
            decorations=tuple((self.position(call), qualname) for call, qualname in self.decorations),
            loops=converter.loops,
        )


_VISIT = {getattr(ast, name[6:]): method for name, method in vars(_Collector).items() if name.startswith("visit_")}
_STATEMENT_WALKS: dict[type[ast.AST], Callable[[_Collector, Any], None]] = {
    ast.AugAssign: _Collector._walk_AugAssign, ast.AnnAssign: _Collector._walk_AnnAssign,
    ast.If: _Collector._walk_If, ast.While: _Collector._walk_If,
    ast.For: _Collector._walk_For, ast.AsyncFor: _Collector._walk_For,
    ast.With: _Collector._walk_With, ast.AsyncWith: _Collector._walk_With, ast.Try: _Collector._walk_Try,
    ast.Raise: _Collector._walk_Raise, ast.Assert: _Collector._walk_Assert, ast.Delete: _Collector._walk_Delete,
    ast.FunctionDef: _Collector._walk_FunctionDef, ast.AsyncFunctionDef: _Collector._walk_FunctionDef,
    ast.ClassDef: _Collector._walk_ClassDef,
    ast.Import: _Collector.visit_Import, ast.ImportFrom: _Collector.visit_ImportFrom,
    ast.Global: _Collector.visit_Global, ast.Nonlocal: _Collector.visit_Nonlocal,
    ast.Pass: _Collector._walk_nothing, ast.Break: _Collector._walk_nothing, ast.Continue: _Collector._walk_nothing,
}
if hasattr(ast, "TryStar"):  # Python 3.11
    _STATEMENT_WALKS[ast.TryStar] = _Collector._walk_Try


class _Converter:
    """Turns an ast expression into an `Expr`, settling names the file itself defines."""

    def __init__(self, source: _Source, pack: RulePack, loop_names: set[str] | None = None):
        self.source = source
        self.envelope_classes = pack.envelope_class_names
        self.envelope_keys = pack.envelope_keys
        self.loop_names = loop_names or set()
        self._loops: dict[int, Expr] = {}  # what each `for` statement iterates over, converted once
        self.loops = False  # whether a loop variable was converted (a `LoopItem` made)

    def module_binding(self, name: str, bindings: list[_Binding]) -> Assignment:
        first = bindings[0]
        if len(bindings) > 1:
            return Assignment(Opaque(f"`{name}` is bound {len(bindings)} times at module level"), first.position)
        seen = frozenset({("<module>", name)})
        if name in self.loop_names and first.value.__class__ in _CONTAINERS and first.how == "assignment":
            return Assignment(self.iterable(first.value, None, seen, 0), first.position)  # type: ignore[arg-type]
        return Assignment(self.bound(f"`{name}`", first, None, seen, 0), first.position)

    def bound(self, what: str, binding: _Binding, scope: _Scope | None, seen: _Seen, depth: int) -> Expr:
        """What a name bound once holds: its value (with its annotation, when it names a class), the
        context of a `with` statement, each element of what a loop iterates over, or why there is
        nothing to follow."""
        if binding.value is None:
            if binding.loop is not None:
                loop, index = binding.loop
                if id(loop) not in self._loops:
                    self._loops[id(loop)] = self.iterable(loop.iter, scope, seen, depth)
                self.loops = True
                return LoopItem(self._loops[id(loop)], index, self.source.position(loop),
                                loop.end_lineno or loop.lineno, what)
            if binding.element is not None:
                return Opaque(f"{what} is unpacked from what {self.describe(binding.element[0].func)} returns")
            return Opaque(f"{what} is bound by {binding.how}")
        value = self.expr(binding.value, scope, seen, depth)
        if binding.how == "a with statement":
            return Entered(value, f"{what} is bound by a with statement")
        hint = _annotation(binding.hint) if binding.hint is not None else None
        return value if hint is None else Typed(value, hint)

    def class_attribute(self, name: str, bindings: list[_Binding], scope: _Scope) -> Assignment:
        first = bindings[0]
        if len(bindings) > 1:
            return Assignment(Opaque(f"`{scope.qualname}.{name}` is assigned {len(bindings)} times"), first.position)
        value = first.value
        if isinstance(value, ast.Call) and _callee_name(value.func) in _ENUM_AUTO_NAMES and not value.args:
            return Assignment(EnumAuto(), first.position)
        seen = frozenset({(scope.qualname or "", name)})
        if name in self.loop_names and value.__class__ in _CONTAINERS:
            return Assignment(self.iterable(value, scope, seen, 0), first.position)  # type: ignore[arg-type]
        return Assignment(self.bound(f"`{scope.qualname}.{name}`", first, scope, seen, 0), first.position)

    def call(self, node: ast.Call, scope: _Scope, bare: bool) -> Call:
        """The call's facts (its callee is a name or an attribute: see `visit_Call`)."""
        args: list[Expr] = []
        star_args = False
        for arg in node.args:
            if arg.__class__ is ast.Starred:
                star_args = True  # the arguments after it have no known position
                break
            args.append(self.expr(arg, scope))
        keywords: tuple[tuple[str, Expr], ...] = ()
        spread = None
        if node.keywords:
            keywords = tuple((k.arg, self.expr(k.value, scope)) for k in node.keywords if k.arg is not None)
            spread = next((k.value for k in node.keywords if k.arg is None), None)
        func = node.func
        name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else ""
        return Call(name, self.expr(func, scope), tuple(args), keywords, star_args, spread is not None,
                    self.source.position(node), scope.qualname, bare, self.source.end(node),
                    self.expr(spread, scope) if spread is not None and spread.__class__ is ast.Name else None)

    def dispatch_cases(self, pending: _PendingDispatch, pack: RulePack) -> list[DispatchCase]:
        read = self._dispatched_read(pending.subject, pending.scope, pack, depth=0)
        if read is None:
            return []
        function, param, key = read
        return [
            DispatchCase(function, param, key, self.expr(value, pending.scope), self.source.position(anchor))
            for value, anchor in pending.values
        ]

    def received(self, pending: _PendingDispatch, names: frozenset[str]) -> list[Received]:
        """The comparisons of a received message's type (see `Received`)."""
        part = _received_part(pending.subject, pending.scope, names, depth=0)
        if part is None:
            return []
        call, element, attribute = part
        function = pending.scope.qualname or ""  # a function's: never empty
        return [Received(function, call, element, attribute, self.expr(value, pending.scope),
                         self.source.position(anchor)) for value, anchor in pending.values]

    def _dispatched_read(self, node: ast.expr, scope: _Scope, pack: RulePack,
                         depth: int) -> tuple[str, str, str] | None:
        """(function, parameter, key) when `node` reads `param[key]`, `param.get(key)` or `param.name` (key
        `.name`)."""
        if isinstance(node, ast.Name) and depth < 4:
            found = _bound_once(node.id, scope)
            if found is None or found[0].value is None:
                return None
            return self._dispatched_read(found[0].value, found[1], pack, depth + 1)
        container = key = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and node.args and isinstance(node.args[0], ast.Constant):
            container, key = node.func.value, node.args[0].value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            container, key = node.value, node.slice.value
        elif isinstance(node, ast.Attribute):
            container, key = node.value, f".{node.attr}"  # `payload.type`: a dispatcher's `attribute`
        if not isinstance(container, ast.Name) or key not in pack.dispatch_keys:
            return None
        owner = _owning_scope(container.id, scope)
        if owner is None or container.id not in owner.params:
            return None
        return owner.qualname or "", container.id, key  # a function's: never empty

    def expr(self, node: ast.expr, scope: _Scope | None, seen: _Seen = frozenset(), depth: int = 0) -> Expr:
        if depth > _MAX_EXPRESSION_DEPTH:
            return Opaque("an expression nested too deeply")
        depth += 1
        # the most frequent first; `type(node) is` is fast (and typed), the classes are exactly these
        if type(node) is ast.Name:
            return self._name(node.id, scope, seen, depth)
        if type(node) is ast.Attribute:
            base = node.value
            if type(base) is ast.Name and scope is not None:
                class_name = _method_class_of(base.id, scope)
                if class_name is not None:
                    return SelfAttrRef(class_name, node.attr)
            return AttrRef(self.expr(base, scope, seen, depth), node.attr)
        if type(node) is ast.Constant:
            return self._constant(node, node.value)
        if type(node) is ast.JoinedStr:
            return self._fstring(node, scope, seen, depth)
        if type(node) is ast.UnaryOp and type(node.op) in (ast.USub, ast.UAdd) and type(node.operand) is ast.Constant \
                and type(node.operand.value) is int:  # `-1`: a literal to whoever reads it
            literal = self._constant(node, node.operand.value)
            if type(literal) is Literal and type(literal.value) is int and type(node.op) is ast.USub:
                return Literal(-literal.value)
            return literal
        if type(node) is ast.BinOp and type(node.op) is ast.Add:
            return Join((self.expr(node.left, scope, seen, depth), self.expr(node.right, scope, seen, depth)))
        if type(node) is ast.BinOp and type(node.op) is ast.Mod and type(node.left) is ast.Constant \
                and type(node.left.value) is str:
            return self._percent(node, node.left.value, scope, seen, depth)
        if type(node) is ast.Lambda:
            return LambdaRef(_parameters(node.args))
        if type(node) is ast.Call:
            if self.envelope_classes and _callee_name(node.func) in self.envelope_classes:
                return self._construction(node, scope, seen, depth)
            func = node.func
            if type(func) is ast.Name and func.id == "getattr" and len(node.args) in (2, 3) and not node.keywords \
                    and not any(type(a) is ast.Starred for a in node.args):
                return GetAttr(self.expr(node.args[0], scope, seen, depth), self.expr(node.args[1], scope, seen, depth),
                               "the result of calling `getattr`")
            if type(func) is ast.Attribute and func.attr == "format" and type(func.value) is ast.Constant \
                    and type(func.value.value) is str:
                return self._format(node, func.value.value, scope, seen, depth)
            if _callee_name(node.func) in _PARTIAL_NAMES and node.args \
                    and not any(isinstance(a, ast.Starred) for a in node.args) \
                    and all(k.arg is not None for k in node.keywords):
                return PartialRef(
                    func=self.expr(node.args[0], scope, seen, depth),
                    positional=len(node.args) - 1,
                    keywords=tuple(k.arg for k in node.keywords if k.arg is not None),  # all of them
                )
            reason = f"the result of calling {self.describe(node.func)}"
            return CallResult(self.expr(node.func, scope, seen, depth), reason)
        if type(node) is ast.Dict and self.envelope_keys:
            envelope = self._dict_envelope(node, scope, seen, depth)
            if envelope is not None:
                return envelope
        return Opaque(f"{self.describe(node)} is not a constant")

    def iterable(self, node: ast.expr, scope: _Scope | None, seen: _Seen, depth: int) -> Expr:
        """What a loop iterates over: a literal list, tuple, set or dict (up to `_MAX_ELEMENTS` of them),
        `X.items()` / `.keys()` / `.values()`, a local variable bound once to one of these, or any name
        (an Enum class, a constant holding a literal)."""
        kind = node.__class__
        if kind in (ast.List, ast.Tuple, ast.Set):
            reason = f"{self.describe(node)} is not a constant"
            elements = node.elts  # type: ignore[attr-defined]
            if len(elements) > _MAX_ELEMENTS or any(e.__class__ is ast.Starred for e in elements):
                return Opaque(reason)
            return Elements(tuple(self.expr(e, scope, seen, depth) for e in elements), reason)
        if kind is ast.Dict:
            assert isinstance(node, ast.Dict)
            reason = f"{self.describe(node)} is not a constant"
            if len(node.keys) > _MAX_ELEMENTS or any(key is None for key in node.keys):
                return Opaque(reason)
            return Mapping(tuple(self.expr(k, scope, seen, depth) for k in node.keys if k is not None),
                           tuple(self.expr(v, scope, seen, depth) for v in node.values), reason)
        if kind is ast.Call:
            assert isinstance(node, ast.Call)
            func = node.func
            if func.__class__ is ast.Attribute and func.attr in ("items", "keys", "values") \
                    and not node.args and not node.keywords:
                return Items(self.iterable(func.value, scope, seen, depth + 1), func.attr,
                             f"the result of calling {self.describe(func)}")
        if kind is ast.Name and scope is not None:
            name = node.id  # type: ignore[attr-defined]
            owner = _owning_scope(name, scope)
            if owner is not None and name not in owner.params and (owner.qualname, name) not in seen:
                bindings = owner.bindings[name]
                value = bindings[0].value
                if len(bindings) == 1 and value.__class__ in _CONTAINERS and bindings[0].how == "assignment":
                    assert value is not None
                    converted = self.iterable(value, owner, seen | {(owner.qualname, name)}, depth + 1)
                    return LocalRef(name, owner.qualname or "", bindings[0].position, converted)
        return self.expr(node, scope, seen, depth)

    def _percent(self, node: ast.BinOp, text: str, scope: _Scope | None, seen: _Seen, depth: int) -> Expr:
        """`"hook_%s" % x` (or a tuple of values): `%s` fields as `{x!s}`, `%d` and `%i` as numbers."""
        pieces = re.split(r"(%.)", text)
        right = node.right
        values = right.elts if right.__class__ is ast.Tuple else [right]
        parts: list[Expr] = []
        converted: list[int] = []
        integers: list[int] = []
        taken = 0
        for piece in pieces:
            if piece in ("%s", "%d", "%i"):
                if taken >= len(values) or values[taken].__class__ is ast.Starred:
                    return Opaque(f"{self.describe(node)} is not a constant")
                (converted if piece == "%s" else integers).append(len(parts))
                parts.append(self.expr(values[taken], scope, seen, depth))
                taken += 1
            elif piece == "%%":
                parts.append(Literal("%"))
            elif piece.startswith("%"):
                return Opaque(f"a %-format field other than %s, %d or %%: {self.describe(node)}")
            elif piece:
                parts.append(Literal(piece))
        if taken != len(values):
            return Opaque(f"{self.describe(node)} is not a constant")
        return FString(tuple(parts), tuple(converted), tuple(integers))

    def _format(self, node: ast.Call, text: str, scope: _Scope | None, seen: _Seen, depth: int) -> Expr:
        """`"hook_{}".format(x)`: fields by position (`{}`, `{0}`) or keyword (`{name}`), `!s` allowed,
        no format spec."""
        formatting = Opaque(f"a str.format field with formatting: {self.describe(node)}")
        if any(a.__class__ is ast.Starred for a in node.args) or any(k.arg is None for k in node.keywords):
            return Opaque(f"the result of calling {self.describe(node.func)}")
        try:
            fields = list(string.Formatter().parse(text))
        except ValueError:
            return formatting
        keywords = {k.arg: k.value for k in node.keywords}
        parts: list[Expr] = []
        converted = []
        automatic = 0
        for literal, field, spec, conversion in fields:
            if literal:
                parts.append(Literal(literal))
            if field is None:
                continue
            if spec or conversion not in (None, "s"):
                return formatting
            if field == "":
                field = str(automatic)
                automatic += 1
            if field.isdigit() and int(field) < len(node.args):
                value = node.args[int(field)]
            elif field in keywords:
                value = keywords[field]
            else:
                return formatting
            if conversion == "s":
                converted.append(len(parts))
            parts.append(self.expr(value, scope, seen, depth))
        return FString(tuple(parts), tuple(converted))

    def _construction(self, node: ast.Call, scope: _Scope | None, seen: _Seen, depth: int) -> Construction:
        """A call of a message class: its arguments are kept, for the type it is built with."""
        args = []
        for arg in node.args:
            if arg.__class__ is ast.Starred:
                break  # the arguments after it have no known position
            args.append(self.expr(arg, scope, seen, depth))
        keywords = tuple((k.arg, self.expr(k.value, scope, seen, depth)) for k in node.keywords if k.arg is not None)
        return Construction(self.expr(node.func, scope, seen, depth), tuple(args), keywords,
                            self.source.position(node))

    def _dict_envelope(self, node: ast.Dict, scope: _Scope | None, seen: _Seen, depth: int) -> DictEnvelope | None:
        keys = {key.value: value for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)}
        for key, requires in self.envelope_keys.items():
            if key in keys and all(required in keys for required in requires):
                return DictEnvelope(key, self.expr(keys[key], scope, seen, depth), self.source.position(node))
        return None

    def envelopes(self, name: str, bindings: list[_Binding], scope: _Scope, seen: _Seen, depth: int) -> Expr | None:
        """A local bound several times, each time to a message object (`if ...: msg = A(...) else: msg
        = B(...)`): any of them; None when any binding is something else."""
        values = []
        for binding in bindings:
            value = binding.value
            if binding.how != "assignment" or not (
                    (value.__class__ is ast.Call and _callee_name(value.func) in self.envelope_classes)
                    or (value.__class__ is ast.Dict and self.envelope_keys)):
                return None
            converted = self.expr(value, scope, seen, depth)
            if converted.__class__ is not Construction and converted.__class__ is not DictEnvelope:
                return None
            values.append(converted)
        return LocalRef(name, scope.qualname or "", bindings[0].position, Either(tuple(values)))

    def _constant(self, node: ast.expr, value: object) -> Expr:
        """A literal: strings and ints are message types; other constants say what they are."""
        if isinstance(value, str):
            return Literal(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > _MAX_INT_BITS:  # its source, not its value: str() fails past 4,300 digits
                return Opaque(f"an int of over 1,000 digits is no message type: {self.describe(node)} is not a string")
            return Literal(value)
        if isinstance(value, bytes):
            return Opaque("a bytes literal is not a message type")
        what = _CONSTANT_KINDS.get(type(value))
        return Opaque(f"{self.describe(node)} is {f'{what}, ' if what else ''}not a message type (a string or an int)")

    def _fstring(self, node: ast.JoinedStr, scope: _Scope | None, seen: _Seen, depth: int) -> Expr:
        parts: list[Expr] = []
        converted = []
        for part in node.values:  # constants and fields
            if isinstance(part, ast.Constant):
                parts.append(Literal(str(part.value)))
            elif not isinstance(part, ast.FormattedValue) or part.format_spec is not None \
                    or part.conversion not in (-1, ord("s")):
                return Opaque(f"an f-string field with formatting: {self.describe(node)}")
            else:
                if part.conversion == ord("s"):
                    converted.append(len(parts))
                parts.append(self.expr(part.value, scope, seen, depth))
        return FString(tuple(parts), tuple(converted))

    def describe(self, node: ast.expr, limit: int = 60) -> str:
        """`source text` for a reason; containers are named, not printed (they can be huge)."""
        if type(node) in CONTAINER_WORDS:
            return CONTAINER_WORDS[type(node)]
        dotted = _dotted_name(node)
        code = dotted if dotted else " ".join(self.source.segment(node).split())
        return f"`{code}`" if len(code) <= limit else f"`{code[: limit - 3]}...`"

    def _name(self, name: str, scope: _Scope | None, seen: _Seen, depth: int) -> Expr:
        if scope is not None and scope.kind == "class" and name in scope.bindings and scope.class_name:
            return SelfAttrRef(scope.class_name, name)
        owner = _owning_scope(name, scope)
        if owner is None:
            return NameRef(name)
        if name in owner.params:
            return ParamRef(name, owner.qualname or "<module>")
        return self._local(name, owner, seen, depth)

    def _local(self, name: str, scope: _Scope, seen: _Seen, depth: int) -> Expr:
        key = (scope.qualname, name)
        if key in seen:
            return Opaque(f"local variable `{name}` of `{scope.qualname}` refers to itself")
        bindings = scope.bindings[name]
        if len(bindings) > 1:
            either = self.envelopes(name, bindings, scope, seen | {key}, depth) \
                if self.envelope_classes or self.envelope_keys else None
            if either is not None:
                return either
            return Opaque(f"local variable `{name}` of `{scope.qualname}` is bound {len(bindings)} times")
        binding = bindings[0]
        value = self.bound(f"local variable `{name}` of `{scope.qualname}`", binding, scope, seen | {key}, depth)
        if binding.value is None or value.__class__ is Entered:  # nothing a step could show
            return value
        return LocalRef(name, scope.qualname or "", binding.position, value)  # a function's: never empty


# Builtins whose calls never send, register or forward anything (`getattr`, `dict`, `map` and the
# like are not here: they can reach a method by name, build an envelope or pass a function on).
_INERT_BUILTINS = frozenset({
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr", "complex", "divmod",
    "enumerate", "float", "format", "frozenset", "hasattr", "hash", "hex", "id", "input", "int", "isinstance",
    "issubclass", "iter", "len", "list", "max", "min", "next", "oct", "ord", "pow", "print", "range", "repr",
    "reversed", "round", "set", "slice", "sorted", "str", "sum", "super", "tuple", "type", "zip",
})


def _bound_around(name: str, scope: _Scope) -> bool:
    """Whether `name` is bound in `scope` or any scope around it, the module's included."""
    current: _Scope | None = scope
    while current is not None:
        if name in current.params or name in current.bindings:
            return True
        current = current.parent
    return False


def _owning_scope(name: str, scope: _Scope | None) -> _Scope | None:
    """The function scope that binds `name` (as a parameter or local), or None for globals."""
    current = scope
    while current is not None and current.kind != "module":
        if current.kind == "class":
            current = current.parent  # class bodies do not enclose their methods
            continue
        if name in current.globals:
            return None
        if name in current.params or name in current.bindings:
            return current
        current = current.parent
    return None


def _method_class_of(name: str, scope: _Scope) -> str | None:
    """The class of the method whose `self`/`cls` parameter `name` is, seen from `scope`."""
    owner = _owning_scope(name, scope)
    if owner is not None and owner.self_param == name and owner.class_name:
        return owner.class_name
    return None


def _received_part(node: ast.expr, scope: _Scope, names: frozenset[str],
                   depth: int) -> tuple[str, int | None, str | None] | None:
    """(call, element, attribute) when `node` is part of what a receive call in `names` returned: a name
    unpacked from it (`sender, code, data = net.recv()`), an element (`net.recv()[1]`, or `package[1]`
    after `package = net.recv()`) or an attribute (`msg.code`), directly or through a local bound once."""
    if depth > 4:
        return None
    if node.__class__ is ast.Subscript and node.slice.__class__ is ast.Constant and type(node.slice.value) is int:
        call = _receive_call(node.value, scope, names)
        return (call, node.slice.value, None) if call is not None else None
    if node.__class__ is ast.Attribute:
        call = _receive_call(node.value, scope, names)
        return (call, None, node.attr) if call is not None else None
    if node.__class__ is ast.Name:
        found = _bound_once(node.id, scope)
        if found is None:
            return None
        binding, owner = found
        if binding.element is not None:
            value, index = binding.element
            name = _callee_name(value.func)
            return (name, index, None) if name in names else None
        if binding.value is not None:
            return _received_part(binding.value, owner, names, depth + 1)
    return None


def _receive_call(node: ast.expr, scope: _Scope, names: frozenset[str]) -> str | None:
    """The name of the receive call `node` is (`net.recv()`), or a local bound once to (`msg`)."""
    if node.__class__ is ast.Name:
        found = _bound_once(node.id, scope)
        node = found[0].value if found is not None and found[0].value is not None else node
    if node.__class__ is ast.Call:
        name = _callee_name(node.func)
        return name if name in names else None
    return None


def _bound_once(name: str, scope: _Scope) -> tuple[_Binding, _Scope] | None:
    """The one binding of a local variable of a function (not a parameter), with that function's
    scope (where its value is read), or None."""
    owner = _owning_scope(name, scope)
    if owner is None or name in owner.params:
        return None
    bindings = owner.bindings.get(name, [])
    return (bindings[0], owner) if len(bindings) == 1 else None


# --- syntax helpers -------------------------------------------------------------------------


def _callee_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _parameters(args: ast.arguments) -> tuple[Param, ...]:
    if not (args.defaults or args.kwonlyargs or args.posonlyargs or args.vararg or args.kwarg):
        return tuple([  # the usual case
            Param(arg.arg, "positional", False, None if arg.annotation is None else _annotation(arg.annotation))
            for arg in args.args
        ])
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    found = [
        Param(arg.arg, "positional_only" if index < len(args.posonlyargs) else "positional", index >= first_default,
              None if arg.annotation is None else _annotation(arg.annotation))
        for index, arg in enumerate(positional)
    ]
    if args.vararg is not None:
        found.append(Param(args.vararg.arg, "var_positional", True))
    found += [
        Param(arg.arg, "keyword_only", default is not None,
              None if arg.annotation is None else _annotation(arg.annotation))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg is not None:
        found.append(Param(args.kwarg.arg, "var_keyword", True))
    return tuple(found)


# Annotations that never name a class of the project or of a library's API: no receiver is typed by them.
_NOT_A_RECEIVER = frozenset({
    "Any", "None", "bool", "bytes", "dict", "float", "int", "list", "object", "set", "str", "tuple", "type",
    "Dict", "List", "Set", "Tuple", "Type", "Callable", "Iterable", "Iterator", "Sequence", "Mapping",
})
_UNWRAPPED = frozenset({"Optional", "Union", "Annotated", "ClassVar", "Final"})  # `X[A, ...]` that stays A (or B)
_MAX_ANNOTATION_TEXT = 500


def _annotation(node: ast.expr, depth: int = 0) -> Instance | None:
    """The classes an annotation says a value is an instance of (None, `Any` and containers
    dropped), or None when it names none: `Node`, `pkg.Node`, `"Node"`, `Optional[Node]`,
    `Node | None`, `Union[A, B]`, `Annotated[Node, ...]`. Read from the syntax alone, in the
    module's scope (where classes live)."""
    classes = _annotation_classes(node, depth)
    return Instance(tuple(classes)) if classes else None


def _annotation_classes(node: ast.expr, depth: int) -> list[Expr]:
    if depth > 8:
        return []
    if isinstance(node, ast.Name):
        return [] if node.id in _NOT_A_RECEIVER else [NameRef(node.id)]
    if isinstance(node, ast.Attribute):
        dotted = _dotted_name(node)
        if not dotted or node.attr in _NOT_A_RECEIVER:
            return []
        first, *rest = dotted.split(".")
        expr: Expr = NameRef(first)
        for part in rest:
            expr = AttrRef(expr, part)
        return [expr]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) <= _MAX_ANNOTATION_TEXT:
        try:
            parsed = ast.parse(node.value.strip(), mode="eval").body  # a string annotation: parsed, never run
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return []
        return _annotation_classes(parsed, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _annotation_classes(node.left, depth + 1) + _annotation_classes(node.right, depth + 1)
    if isinstance(node, ast.Subscript) and _callee_name(node.value) in _UNWRAPPED:
        inner = node.slice
        elements = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        if _callee_name(node.value) in ("Annotated", "ClassVar", "Final"):
            elements = elements[:1]
        return [found for element in elements for found in _annotation_classes(element, depth + 1)]
    return []


_MAX_RETURNS = 8


def _returns(function: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope,
             converter: _Converter) -> tuple[Expr, ...]:
    """What a function returns, for typing what its callers get: the class its return annotation
    names, else the calls and names its `return` statements return (anything else, or too many
    of them, makes an `Opaque` that says it is not known)."""
    if function.returns is not None:
        hint = _annotation(function.returns)
        return (hint,) if hint is not None else (Opaque("the return annotation names no class"),)
    if not scope.returns:
        return ()
    followed = _TYPED_VALUES | {ast.Dict} if converter.envelope_keys else _TYPED_VALUES  # a dict: a message?
    if len(scope.returns) > _MAX_RETURNS or not all(value.__class__ in followed for value in scope.returns):
        return (_UNTYPED,)
    return tuple(converter.expr(value, scope) for value in scope.returns)


# The values that can give a receiver its class: a call (an instance, or what a function returns)
# and a name or attribute holding one. Anything else is kept as not typed, unconverted.
_TYPED_VALUES = frozenset({ast.Call, ast.Name, ast.Attribute})
_UNTYPED = Opaque("a value whose class is not inferred")


_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "setter", "getter", "deleter"})


def _method_kind(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    if not node.decorator_list:
        return "method"
    decorators = {_callee_name(d) for d in node.decorator_list}
    if "staticmethod" in decorators:
        return "staticmethod"
    if "classmethod" in decorators:
        return "classmethod"
    if decorators & _PROPERTY_DECORATORS:
        return "property"
    return "method"


def _target_names(target: ast.expr) -> list[ast.Name]:
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _match_values(pattern: ast.pattern) -> list[tuple[ast.expr, _Located]]:
    if isinstance(pattern, ast.MatchValue):
        return [(pattern.value, pattern)]
    if isinstance(pattern, ast.MatchOr):
        return [value for element in pattern.patterns for value in _match_values(element)]
    if isinstance(pattern, ast.MatchAs) and pattern.pattern is not None:
        return _match_values(pattern.pattern)
    return []


_CONTAINERS = frozenset({ast.List, ast.Tuple, ast.Set, ast.Dict})
CONTAINER_WORDS = {  # how a reason names a container literal (see `_Converter.describe`)
    ast.Dict: "a dict", ast.List: "a list", ast.Tuple: "a tuple", ast.Set: "a set",
    ast.DictComp: "a dict comprehension", ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension", ast.GeneratorExp: "a generator expression",
}


def _dotted_name(node: ast.AST) -> str:
    """`a.b.c` for a chain of names, else ""."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(node.id)
    return ".".join(reversed(parts))
