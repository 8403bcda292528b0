"""Extraction: one file's bytes in, its facts out (libcst, nothing executed).

This is a pure function of the source bytes and the rule pack, so it can run in
worker processes and be cached by content hash. It settles every name that can
be settled inside the file (parameters, local variables, `self.X`) and leaves
module-level names to the link stage.
"""

from __future__ import annotations

import ast
import codecs
import dataclasses
import re
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

from fedcl_lint.facts import (
    Assignment,
    AttrRef,
    Call,
    ClassFacts,
    DispatchCase,
    EnumAuto,
    Expr,
    FunctionFacts,
    ImportBinding,
    Join,
    LambdaRef,
    Literal,
    LocalRef,
    ModuleFacts,
    NameRef,
    Opaque,
    Param,
    ParamRef,
    ParseFailure,
    PartialRef,
    Payload,
    Position,
    SelfAttrRef,
)
from fedcl_lint.rulepack import RulePack


def extract(source: bytes, pack: RulePack) -> ModuleFacts:
    """Return the facts of one Python file, or a `ParseFailure` saying where it broke."""
    text, failure = decode(source)
    if failure is not None:
        return ModuleFacts(failure=failure)
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return ModuleFacts(failure=_syntax_failure(text, exc))
    collector = _Collector(pack)
    collector.walk(module)
    return collector.facts(module)


def decode(source: bytes) -> tuple[str, ParseFailure | None]:
    """Decode by the file's BOM or coding cookie (PEP 263), locating any failure."""
    encoding, cookie_line = _declared_encoding(source)
    try:
        codecs.lookup(encoding)
    except LookupError:
        return "", ParseFailure(f"cannot decode: unknown encoding {encoding!r}", (cookie_line, 1))
    try:
        return source.decode(encoding), None
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        column = exc.start - (source.rfind(b"\n", 0, exc.start) + 1) + 1
        return "", ParseFailure(f"cannot decode as {encoding}: {exc.reason}", (line, column))


_CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")


def _declared_encoding(source: bytes) -> tuple[str, int]:
    """The encoding a BOM or a cookie on line 1 or 2 declares (utf-8 by default), and its line."""
    if source.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 1
    lines = source.split(b"\n", 2)[:2]
    for number, line in enumerate(lines, start=1):
        match = _CODING_COOKIE.match(line)
        if match:
            return match.group(1).decode("ascii", "replace"), number
        if not _BLANK_OR_COMMENT.match(line):
            break
    return "utf-8", 1


def _syntax_failure(text: str, exc: cst.ParserSyntaxError) -> ParseFailure:
    # Python's own parser locates syntax errors more precisely than libcst; it only
    # parses here, never compiles or runs anything.
    try:
        ast.parse(text)
    except SyntaxError as syntax:
        return ParseFailure(f"syntax error: {syntax.msg}", (syntax.lineno or 1, syntax.offset or 1))
    except (ValueError, RecursionError, MemoryError):
        pass
    first_line = exc.message.strip().splitlines()[0] if exc.message.strip() else "syntax error"
    return ParseFailure(f"cannot parse: {first_line}", (exc.raw_line, exc.raw_column + 1))


# --- scopes ---------------------------------------------------------------------------------


@dataclass
class _Binding:
    """One binding of a name in a scope: `value` is None when it is not `name = value`."""

    value: cst.BaseExpression | None
    target: cst.CSTNode
    how: str


@dataclass(eq=False)
class _Scope:
    kind: str  # "module", "class", "function"
    qualname: str | None
    parent: "_Scope | None"
    params: frozenset[str] = frozenset()
    self_param: str | None = None
    class_name: str | None = None
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)

    def bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


@dataclass
class _PendingCall:
    call: cst.Call
    scope: _Scope
    bare: bool


@dataclass
class _PendingPayload:
    key: str
    value: cst.BaseExpression
    node: cst.Dict
    scope: _Scope


@dataclass
class _PendingDispatch:
    subject: cst.BaseExpression
    values: list[cst.BaseExpression]
    scope: _Scope


_ENUM_AUTO_NAMES = {"auto"}
_PARTIAL_NAMES = {"partial"}


class _Collector:
    """Walks one module once, remembering raw nodes; `facts()` converts them at the end,
    when every scope's bindings are known.

    libcst's own visitor rebuilds every node it passes (its visitors share the
    machinery of transformers), which costs more than parsing; this walk only reads.
    """

    def walk(self, node: cst.CSTNode) -> None:
        kind = type(node)
        visit = _VISIT.get(kind)
        if visit is not None:
            visit(self, node)
        for child in _children(node):
            self.walk(child)
        leave = _LEAVE.get(kind)
        if leave is not None:
            leave(self, node)

    def __init__(self, pack: RulePack):
        self.pack = pack
        self.module_scope = _Scope("module", None, None)
        self.scope = self.module_scope
        self.classes: list[tuple[cst.ClassDef, _Scope]] = []
        self.functions: list[tuple[cst.FunctionDef, _Scope]] = []
        self.imports: dict[str, tuple[ImportBinding, cst.CSTNode]] = {}
        self.star_imports: list[tuple[str, int]] = []
        self.calls: list[_PendingCall] = []
        self.payloads: list[_PendingPayload] = []
        self.dispatches: list[_PendingDispatch] = []
        self.position_targets: list[cst.CSTNode] = []
        self._bare_call: cst.Call | None = None

    # scopes

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        top_level = self.scope is self.module_scope
        self._bind_here(node.name.value, _Binding(None, node.name, "a class"))
        self.scope = _Scope(
            "class",
            self._qualify(node.name.value),
            self.scope,
            class_name=node.name.value if top_level else None,
        )
        if top_level:
            self.classes.append((node, self.scope))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope = self.scope.parent

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind_here(node.name.value, _Binding(None, node.name, "a function"))
        owner = self.scope
        self_param = None
        if owner.kind == "class" and owner.class_name and _method_kind(node) != "staticmethod":
            positional = [*node.params.posonly_params, *node.params.params]
            self_param = positional[0].name.value if positional else None
        self.scope = _Scope(
            "function",
            self._qualify(node.name.value),
            self.scope,
            params=frozenset(p.name for p in _parameters(node.params)),
            self_param=self_param,
            class_name=owner.class_name if self_param else None,
        )
        self.functions.append((node, self.scope))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope = self.scope.parent

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scope = _Scope(
            "function",
            self._qualify("<lambda>"),
            self.scope,
            params=frozenset(p.name for p in _parameters(node.params)),
        )

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scope = self.scope.parent

    def visit_Global(self, node: cst.Global) -> None:
        self.scope.globals.update(item.name.value for item in node.names)

    # bindings

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._bind_here(target.target.value, _Binding(node.value, target.target, "assignment"))
            else:
                self._bind_targets(target.target, "unpacking")

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and isinstance(node.target, cst.Name):
            self._bind_here(node.target.value, _Binding(node.value, node.target, "assignment"))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_targets(node.target, "augmented assignment")

    def visit_For(self, node: cst.For) -> None:
        self._bind_targets(node.target, "a for loop")

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_targets(node.target, "a comprehension")

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_targets(node.asname.name, "a with statement")

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_targets(node.target, "an assignment expression")

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_targets(node.name.name, "an except clause")

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted_name(alias.name)
            if alias.asname is not None:
                local = alias.asname.name.value
                binding = ImportBinding(module=dotted, level=0, name=None, position=(0, 0))
            else:
                local = dotted.split(".")[0]
                binding = ImportBinding(module=local, level=0, name=None, position=(0, 0))
            self._bind_import(local, binding, alias)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            if self.scope is self.module_scope:
                self.star_imports.append((module, level))
            return
        for alias in node.names:
            name = _dotted_name(alias.name)
            local = alias.asname.name.value if alias.asname is not None else name
            self._bind_import(local, ImportBinding(module=module, level=level, name=name, position=(0, 0)), alias)

    # calls, payloads, dispatch comparisons

    def visit_Expr(self, node: cst.Expr) -> None:
        self._bare_call = node.value if isinstance(node.value, cst.Call) else None

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        self.calls.append(_PendingCall(node, self.scope, bare=node is self._bare_call))
        self.position_targets.append(node)

    def visit_Dict(self, node: cst.Dict) -> None:
        keys = {}
        for element in node.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                key = element.key.evaluated_value
                if isinstance(key, str):
                    keys[key] = element.value
        for spec in self.pack.payloads:
            if spec.key in keys and all(required in keys for required in spec.requires):
                self.payloads.append(_PendingPayload(spec.key, keys[spec.key], node, self.scope))
                self.position_targets.append(node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if self.scope.kind != "function" or not self.pack.dispatch_keys or len(node.comparisons) != 1:
            return
        [target] = node.comparisons
        self.position_targets.extend((node.left, target.comparator))
        if isinstance(target.operator, cst.Equal):
            # either side may be the dispatched name: `kind == "x"` or `"x" == kind`
            self.dispatches.append(_PendingDispatch(node.left, [target.comparator], self.scope))
            self.dispatches.append(_PendingDispatch(target.comparator, [node.left], self.scope))
        elif isinstance(target.operator, cst.In) and isinstance(target.comparator, (cst.Tuple, cst.List, cst.Set)):
            values = [e.value for e in target.comparator.elements if isinstance(e, cst.Element)]
            self.position_targets.extend(values)
            self.dispatches.append(_PendingDispatch(node.left, values, self.scope))

    def visit_Match(self, node: cst.Match) -> None:
        if self.scope.kind != "function" or not self.pack.dispatch_keys:
            return
        values = [value for case in node.cases for value in _match_values(case.pattern)]
        self.position_targets.extend(values)
        self.dispatches.append(_PendingDispatch(node.subject, values, self.scope))

    # helpers

    def _qualify(self, name: str) -> str:
        return f"{self.scope.qualname}.{name}" if self.scope.qualname else name

    def _bind_here(self, name: str, binding: _Binding) -> None:
        self.scope.bind(name, binding)
        self.position_targets.append(binding.target)

    def _bind_targets(self, target: cst.BaseExpression, how: str) -> None:
        for name in _target_names(target):
            self._bind_here(name.value, _Binding(None, name, how))

    def _bind_import(self, local: str, binding: ImportBinding, alias: cst.ImportAlias) -> None:
        if self.scope is self.module_scope:
            self.imports[local] = (binding, alias)
            self.position_targets.append(alias)
        else:
            self.scope.bind(local, _Binding(None, alias, "an import inside a function"))

    # conversion, once the walk is over

    def facts(self, module: cst.Module) -> ModuleFacts:
        positions = _positions(module, self.position_targets)
        converter = _Converter(module, positions)
        constants = {
            name: converter.module_binding(name, bindings)
            for name, bindings in self.module_scope.bindings.items()
            if any(b.how != "a class" for b in bindings) and name not in self.imports
        }
        classes = {}
        for node, scope in self.classes:
            bases = tuple(converter.expr(arg.value, self.module_scope) for arg in node.bases if arg.keyword is None)
            attributes = {
                name: converter.class_attribute(name, bindings, scope)
                for name, bindings in scope.bindings.items()
                if all(b.how == "assignment" for b in bindings)
            }
            classes[node.name.value] = ClassFacts(
                name=node.name.value, position=positions[node.name], bases=bases, attributes=attributes
            )
        imports = {
            local: ImportBinding(binding.module, binding.level, binding.name, positions[alias])
            for local, (binding, alias) in self.imports.items()
        }
        functions = {}
        for node, scope in self.functions:
            params = _parameters(node.params)
            kind = _method_kind(node) if scope.parent.kind == "class" else "function"
            if kind in ("method", "classmethod") and params and params[0].kind in ("positional_only", "positional"):
                params = params[1:]  # the bound self / cls
            functions[scope.qualname] = FunctionFacts(
                qualname=scope.qualname,
                name=node.name.value,
                class_name=scope.parent.class_name if scope.parent.kind == "class" else None,
                kind=kind,
                params=params,
                is_async=node.asynchronous is not None,
                position=positions[node.name],
            )
        return ModuleFacts(
            constants=constants,
            classes=classes,
            imports=imports,
            star_imports=tuple(self.star_imports),
            functions=functions,
            calls=tuple(converter.call(pending, positions[pending.call]) for pending in self.calls),
            payloads=tuple(
                Payload(p.key, converter.expr(p.value, p.scope), positions[p.node], p.scope.qualname)
                for p in self.payloads
            ),
            dispatch_cases=tuple(case for d in self.dispatches for case in converter.dispatch_cases(d, self.pack)),
        )


_VISIT = {getattr(cst, name[6:]): method for name, method in vars(_Collector).items() if name.startswith("visit_")}
_LEAVE = {getattr(cst, name[6:]): method for name, method in vars(_Collector).items() if name.startswith("leave_")}

# Fields that only hold whitespace, punctuation or operators: nothing to collect below them.
_SYNTAX_FIELDS = ("whitespace", "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after",
                  "header", "footer", "trailing_whitespace", "newline", "lbrace", "rbrace", "lbracket",
                  "rbracket", "colon", "equal", "dot", "operator", "asynchronous", "star", "indent")
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: cst.CSTNode):
    """The child nodes that can hold anything extraction collects."""
    fields = _CHILD_FIELDS.get(type(node))
    if fields is None:
        fields = tuple(
            f.name for f in dataclasses.fields(node) if not f.name.startswith(_SYNTAX_FIELDS)
        )
        _CHILD_FIELDS[type(node)] = fields
    for name in fields:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif type(value) in (list, tuple):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


class _Converter:
    """Turns a libcst expression into an `Expr`, settling names the file itself defines."""

    def __init__(self, module: cst.Module, positions: dict[cst.CSTNode, Position]):
        self.module = module
        self.positions = positions

    def module_binding(self, name: str, bindings: list[_Binding]) -> Assignment:
        first = bindings[0]
        position = self.positions[first.target]
        if len(bindings) > 1:
            return Assignment(Opaque(f"`{name}` is bound {len(bindings)} times at module level"), position)
        if first.value is None:
            return Assignment(Opaque(f"`{name}` is bound by {first.how}"), position)
        return Assignment(self.expr(first.value, None, seen=frozenset({("<module>", name)})), position)

    def class_attribute(self, name: str, bindings: list[_Binding], scope: _Scope) -> Assignment:
        first = bindings[0]
        position = self.positions[first.target]
        if len(bindings) > 1:
            return Assignment(Opaque(f"`{scope.qualname}.{name}` is assigned {len(bindings)} times"), position)
        value = first.value
        if isinstance(value, cst.Call) and _callee_name(value.func) in _ENUM_AUTO_NAMES and not value.args:
            return Assignment(EnumAuto(), position)
        return Assignment(self.expr(value, scope, seen=frozenset({(scope.qualname, name)})), position)

    def call(self, pending: _PendingCall, position: Position) -> Call:
        node, scope = pending.call, pending.scope
        args: list[Expr] = []
        keywords: list[tuple[str, Expr]] = []
        star_args = star_kwargs = False
        for arg in node.args:
            if arg.star == "*":
                star_args = True
            elif arg.star == "**":
                star_kwargs = True
            elif arg.keyword is not None:
                keywords.append((arg.keyword.value, self.expr(arg.value, scope)))
            elif not star_args:
                args.append(self.expr(arg.value, scope))
        return Call(
            name=_callee_name(node.func),
            callee=self.expr(node.func, scope),
            args=tuple(args),
            keywords=tuple(keywords),
            star_args=star_args,
            star_kwargs=star_kwargs,
            position=position,
            function=scope.qualname,
            bare=pending.bare,
        )

    def dispatch_cases(self, pending: _PendingDispatch, pack: RulePack) -> list[DispatchCase]:
        read = self._dispatched_read(pending.subject, pending.scope, pack, depth=0)
        if read is None:
            return []
        function, param, key = read
        cases = []
        for value in pending.values:
            position = _first_position(self.positions, value) or (0, 0)
            cases.append(DispatchCase(function, param, key, self.expr(value, pending.scope), position))
        return cases

    def _dispatched_read(self, node: cst.BaseExpression, scope: _Scope, pack: RulePack,
                         depth: int) -> tuple[str, str, str] | None:
        """(function, parameter, key) when `node` reads `param[key]` or `param.get(key)`."""
        if isinstance(node, cst.Name) and depth < 4:
            owner = _owning_scope(node.value, scope)
            if owner is None or node.value in owner.params:
                return None
            bindings = owner.bindings.get(node.value, [])
            if len(bindings) == 1 and bindings[0].value is not None:
                return self._dispatched_read(bindings[0].value, owner, pack, depth + 1)
            return None
        container = key = None
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" \
                and node.args and isinstance(node.args[0].value, cst.SimpleString):
            container, key = node.func.value, node.args[0].value.evaluated_value
        elif isinstance(node, cst.Subscript) and len(node.slice) == 1 \
                and isinstance(node.slice[0].slice, cst.Index) \
                and isinstance(node.slice[0].slice.value, cst.SimpleString):
            container, key = node.value, node.slice[0].slice.value.evaluated_value
        if not isinstance(container, cst.Name) or key not in pack.dispatch_keys:
            return None
        owner = _owning_scope(container.value, scope)
        if owner is None or container.value not in owner.params:
            return None
        return owner.qualname, container.value, key

    def expr(self, node: cst.BaseExpression, scope: _Scope | None, seen: frozenset = frozenset()) -> Expr:
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            return Literal(value) if isinstance(value, str) else Opaque("a bytes literal is not a message type")
        if isinstance(node, cst.ConcatenatedString):
            return Join((self.expr(node.left, scope, seen), self.expr(node.right, scope, seen)))
        if isinstance(node, cst.FormattedString):
            return self._fstring(node, scope, seen)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return Join((self.expr(node.left, scope, seen), self.expr(node.right, scope, seen)))
        if isinstance(node, cst.Name):
            return self._name(node.value, scope, seen)
        if isinstance(node, cst.Attribute):
            base = node.value
            if isinstance(base, cst.Name) and scope is not None:
                method = _method_scope_of(base.value, scope)
                if method is not None:
                    return SelfAttrRef(method.class_name, node.attr.value)
            return AttrRef(self.expr(base, scope, seen), node.attr.value)
        if isinstance(node, cst.Lambda):
            return LambdaRef(_parameters(node.params))
        if isinstance(node, cst.Call):
            if _callee_name(node.func) in _PARTIAL_NAMES and node.args and not node.args[0].keyword \
                    and not any(arg.star for arg in node.args):
                return PartialRef(
                    func=self.expr(node.args[0].value, scope, seen),
                    positional=sum(1 for arg in node.args[1:] if arg.keyword is None),
                    keywords=tuple(arg.keyword.value for arg in node.args if arg.keyword is not None),
                )
            return Opaque(f"the result of calling {_describe(self.module, node.func)}")
        return Opaque(f"{_describe(self.module, node)} is not a constant")

    def _fstring(self, node: cst.FormattedString, scope: _Scope | None, seen: frozenset) -> Expr:
        parts: list[Expr] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                if "\\" in part.value:
                    return Opaque("an f-string with escape sequences")
                parts.append(Literal(part.value.replace("{{", "{").replace("}}", "}")))
            elif part.format_spec or part.conversion not in (None, "s") or part.equal is not None:
                return Opaque(f"an f-string field with formatting: `{_short_code(self.module, node)}`")
            else:
                parts.append(self.expr(part.expression, scope, seen))
        return Join(tuple(parts))

    def _name(self, name: str, scope: _Scope | None, seen: frozenset) -> Expr:
        if scope is not None and scope.kind == "class" and name in scope.bindings and scope.class_name:
            return SelfAttrRef(scope.class_name, name)
        owner = _owning_scope(name, scope)
        if owner is None:
            return NameRef(name)
        if name in owner.params:
            return ParamRef(name, owner.qualname or "<module>")
        return self._local(name, owner, seen)

    def _local(self, name: str, scope: _Scope, seen: frozenset) -> Expr:
        key = (scope.qualname, name)
        if key in seen:
            return Opaque(f"local variable `{name}` of `{scope.qualname}` refers to itself")
        bindings = scope.bindings[name]
        if len(bindings) > 1:
            return Opaque(f"local variable `{name}` of `{scope.qualname}` is bound {len(bindings)} times")
        binding = bindings[0]
        if binding.value is None:
            return Opaque(f"local variable `{name}` of `{scope.qualname}` is bound by {binding.how}")
        value = self.expr(binding.value, scope, seen | {key})
        position = self.positions.get(binding.target) or (0, 0)
        return LocalRef(name, scope.qualname, position, value)


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


def _method_scope_of(name: str, scope: _Scope) -> _Scope | None:
    """The method whose `self`/`cls` parameter `name` is, seen from `scope`."""
    owner = _owning_scope(name, scope)
    if owner is not None and owner.self_param == name and owner.class_name:
        return owner
    return None


# --- syntax helpers -------------------------------------------------------------------------


def _callee_name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


def _dotted_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted_name(node.value)}.{node.attr.value}"
    return ""


def _parameters(params: cst.Parameters) -> tuple[Param, ...]:
    found = [Param(p.name.value, "positional_only", p.default is not None) for p in params.posonly_params]
    found += [Param(p.name.value, "positional", p.default is not None) for p in params.params]
    if isinstance(params.star_arg, cst.Param):
        found.append(Param(params.star_arg.name.value, "var_positional", True))
    found += [Param(p.name.value, "keyword_only", p.default is not None) for p in params.kwonly_params]
    if isinstance(params.star_kwarg, cst.Param):
        found.append(Param(params.star_kwarg.name.value, "var_keyword", True))
    return tuple(found)


def _method_kind(node: cst.FunctionDef) -> str:
    decorators = {_callee_name(d.decorator) for d in node.decorators}
    if "staticmethod" in decorators:
        return "staticmethod"
    if "classmethod" in decorators:
        return "classmethod"
    return "method"


def _target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


def _match_values(pattern: cst.MatchPattern) -> list[cst.BaseExpression]:
    if isinstance(pattern, cst.MatchValue):
        return [pattern.value]
    if isinstance(pattern, cst.MatchOr):
        return [value for element in pattern.patterns for value in _match_values(element.pattern)]
    if isinstance(pattern, cst.MatchAs) and pattern.pattern is not None:
        return _match_values(pattern.pattern)
    return []


def _first_position(positions: dict[cst.CSTNode, Position], node: cst.CSTNode) -> Position | None:
    """A value's position: its own, or that of the first recorded node inside it."""
    if node in positions:
        return positions[node]
    for child in node.children:
        found = _first_position(positions, child)
        if found is not None:
            return found
    return None


_CONTAINER_WORDS = {
    cst.Dict: "a dict", cst.List: "a list", cst.Tuple: "a tuple", cst.Set: "a set",
    cst.DictComp: "a dict comprehension", cst.ListComp: "a list comprehension",
    cst.SetComp: "a set comprehension", cst.GeneratorExp: "a generator expression",
}


def _describe(module: cst.Module, node: cst.CSTNode) -> str:
    """`source text` for a reason; containers are named, not printed (they can be huge)."""
    if type(node) in _CONTAINER_WORDS:
        return _CONTAINER_WORDS[type(node)]
    if isinstance(node, (cst.Name, cst.Attribute)):
        dotted = _dotted_name(node)
        if dotted:
            return f"`{dotted}`"
    return f"`{_short_code(module, node)}`"


def _short_code(module: cst.Module, node: cst.CSTNode, limit: int = 60) -> str:
    code = " ".join(module.code_for_node(node).split())
    return code if len(code) <= limit else code[: limit - 3] + "..."


# --- positions ------------------------------------------------------------------------------


@dataclass
class _PositionState(CodegenState):
    """Code generation that records where chosen nodes start, and nothing else.

    libcst's PositionProvider records every node of every file; we only need the
    few nodes we report, so we count lines lazily, only when one of them starts.
    """

    targets: dict[int, cst.CSTNode] = field(default_factory=dict)
    found: dict[int, Position] = field(default_factory=dict)
    _scanned: int = 0
    _line: int = 1
    _column: int = 0

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self._advance()
            self.found[id(node)] = (self._line, self._column + 1)

    def _advance(self) -> None:
        for token in self.tokens[self._scanned :]:
            newlines = token.count("\n")
            if newlines:
                self._line += newlines
                self._column = len(token) - token.rfind("\n") - 1
            else:
                self._column += len(token)
        self._scanned = len(self.tokens)


def _positions(module: cst.Module, nodes: list[cst.CSTNode]) -> dict[cst.CSTNode, Position]:
    if not nodes:
        return {}
    state = _PositionState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets={id(node): node for node in nodes},
    )
    module._codegen(state)
    return {node: state.found[id(node)] for node in nodes if id(node) in state.found}
