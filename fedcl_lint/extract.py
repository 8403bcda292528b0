"""Extraction: one file's bytes in, its facts out (libcst, nothing executed).

This is a pure function of the source bytes and the rule pack, so it can run in
worker processes and be cached by content hash. It settles every name that can
be settled inside the file (parameters, local variables, `self.X`) and leaves
module-level names to the link stage.
"""

from __future__ import annotations

import ast
import codecs
import re
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

from fedcl_lint.facts import (
    Assignment,
    AttrRef,
    CallSite,
    ClassFacts,
    EnumAuto,
    Expr,
    ImportBinding,
    Join,
    Literal,
    LocalRef,
    ModuleFacts,
    NameRef,
    Opaque,
    ParamRef,
    ParseFailure,
    Position,
    SelfAttrRef,
)
from fedcl_lint.rulepack import ArgSlot, CallSpec, RulePack


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
    module.visit(collector)
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
class _PendingSite:
    spec: CallSpec
    call: cst.Call
    argument: cst.BaseExpression | Opaque
    handler: cst.BaseExpression | None
    scope: _Scope


_ENUM_AUTO_NAMES = {"auto"}


class _Collector(cst.CSTVisitor):
    """Walks one module once, remembering raw nodes; `facts()` converts them at the end,
    when every scope's bindings are known."""

    def __init__(self, pack: RulePack):
        self.pack = pack
        self.module_scope = _Scope("module", None, None)
        self.scope = self.module_scope
        self.classes: list[tuple[cst.ClassDef, _Scope]] = []
        self.imports: dict[str, tuple[ImportBinding, cst.CSTNode]] = {}
        self.star_imports: list[tuple[str, int]] = []
        self.sites: list[_PendingSite] = []
        self.position_targets: list[cst.CSTNode] = []

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
            self.position_targets.append(node.name)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope = self.scope.parent

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind_here(node.name.value, _Binding(None, node.name, "a function"))
        params = _parameter_names(node.params)
        self_param = None
        owner = self.scope
        if owner.kind == "class" and owner.class_name and not _is_staticmethod(node):
            positional = [*node.params.posonly_params, *node.params.params]
            self_param = positional[0].name.value if positional else None
        self.scope = _Scope(
            "function",
            self._qualify(node.name.value),
            self.scope,
            params=params,
            self_param=self_param,
            class_name=owner.class_name if self_param else None,
        )

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope = self.scope.parent

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scope = _Scope(
            "function", self._qualify("<lambda>"), self.scope, params=_parameter_names(node.params)
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

    # call sites

    def visit_Call(self, node: cst.Call) -> None:
        spec = self.pack.call(_callee_name(node.func))
        if spec is None:
            return
        self.sites.append(
            _PendingSite(
                spec=spec,
                call=node,
                argument=_argument(node, spec.message_type, "message type"),
                handler=_optional_argument(node, spec.handler),
                scope=self.scope,
            )
        )
        self.position_targets.append(node)

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
        sites = tuple(
            CallSite(
                api=site.spec.name,
                role=site.spec.role,
                mechanism=site.spec.mechanism,
                message_type=site.argument
                if isinstance(site.argument, Opaque)
                else converter.expr(site.argument, site.scope),
                position=positions[site.call],
                function=site.scope.qualname,
                handler=_short_code(module, site.handler) if site.handler is not None else None,
            )
            for site in self.sites
        )
        return ModuleFacts(
            constants=constants,
            classes=classes,
            imports=imports,
            star_imports=tuple(self.star_imports),
            sites=sites,
        )


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
        if isinstance(node, cst.Call):
            return Opaque(f"the result of calling `{_short_code(self.module, node.func)}`")
        return Opaque(f"`{_short_code(self.module, node)}` is not a constant")

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
        current = scope
        while current is not None and current.kind != "module":
            if current.kind == "class":
                current = current.parent  # class bodies do not enclose their methods
                continue
            if name in current.globals:
                break
            if name in current.params:
                return ParamRef(name, current.qualname or "<module>")
            if name in current.bindings:
                return self._local(name, current, seen)
            current = current.parent
        return NameRef(name)

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


def _method_scope_of(name: str, scope: _Scope) -> _Scope | None:
    """The method whose `self`/`cls` parameter `name` is, seen from `scope`."""
    current = scope
    while current is not None and current.kind == "function":
        if name in current.params or name in current.bindings:
            return current if current.self_param == name and current.class_name else None
        current = current.parent
    return None


# --- arguments ------------------------------------------------------------------------------


def _argument(call: cst.Call, slot: ArgSlot, what: str) -> cst.BaseExpression | Opaque:
    """The argument in `slot`, or an `Opaque` saying why it cannot be found."""
    positional = 0
    for arg in call.args:
        if arg.star == "*":
            return Opaque(f"the {what} is passed through `*{_name_or_expr(arg.value)}`")
        if arg.star == "**":
            continue
        if arg.keyword is not None:
            if arg.keyword.value == slot.keyword:
                return arg.value
            continue
        if positional == slot.position:
            return arg.value
        positional += 1
    if any(arg.star == "**" for arg in call.args):
        return Opaque(f"the {what} is passed through `**` keyword arguments")
    return Opaque(f"the call has no {what} argument")


def _optional_argument(call: cst.Call, slot: ArgSlot | None) -> cst.BaseExpression | None:
    if slot is None:
        return None
    found = _argument(call, slot, "handler")
    return None if isinstance(found, Opaque) else found


def _name_or_expr(node: cst.BaseExpression) -> str:
    return node.value if isinstance(node, cst.Name) else "..."


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


def _parameter_names(params: cst.Parameters) -> frozenset[str]:
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.append(star.name.value)
    return frozenset(names)


def _is_staticmethod(node: cst.FunctionDef) -> bool:
    return any(_callee_name(d.decorator) == "staticmethod" for d in node.decorators)


def _target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


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
