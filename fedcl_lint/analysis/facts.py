"""Per-file facts: what extraction hands to linking.

Facts are small, immutable and picklable (never syntax tree nodes) and depend only on a
file's bytes and the rule pack, so they can be computed in parallel and cached.
Positions are (line, column), both 1-based; the file's path is attached later.

Message-type arguments are kept as a tiny symbolic expression language
(`Expr`), with every name that extraction could settle inside its own file
already settled (parameters, local variables, `self.X`). Names that live in
other modules are resolved by the link stage.

Facts are records (see `fedcl_lint.records`), not dataclasses: a run makes some
100,000 of them, and importing 22 dataclasses took a sixth of a check's start-up.
"""

from __future__ import annotations

from fedcl_lint.records import Record

__all__ = [
    "Assignment", "AttrRef", "AttributeStore", "AwaitedAttribute", "Call", "CallResult", "ClassFacts", "Construction",
    "DictEnvelope", "DispatchCase", "Either", "Elements", "Entered", "EnumAuto", "FString", "FunctionFacts",
    "FunctionRef", "GetAttr", "ImportBinding", "Instance", "Items", "Join", "LambdaRef", "Literal", "LocalRef",
    "LoopItem", "Mapping", "ModuleFacts", "NameRef", "Opaque", "Param", "ParamRef", "ParseFailure", "PartialRef",
    "Payload", "SelfAttrRef", "Suppression", "Typed",
]

Position = tuple[int, int]


class Literal(Record):
    """A string or int literal (never a bool: extraction makes those `Opaque`)."""

    __slots__ = ("value",)

    def __init__(self, value: str | int):
        self.value = value


class NameRef(Record):
    """A name looked up in the module's global scope (constant, class, import)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class AttrRef(Record):
    """`base.attr`: a module member, class attribute, enum member or `.value`."""

    __slots__ = ("base", "attr")

    def __init__(self, base: Expr, attr: str):
        self.base = base
        self.attr = attr


class SelfAttrRef(Record):
    """`self.attr` or `cls.attr` inside a method of the top-level class `class_name`."""

    __slots__ = ("class_name", "attr")

    def __init__(self, class_name: str, attr: str):
        self.class_name = class_name
        self.attr = attr


class LocalRef(Record):
    """A local variable assigned exactly once; `value` is what it was assigned."""

    __slots__ = ("name", "function", "position", "value")

    def __init__(self, name: str, function: str, position: Position, value: Expr):
        self.name = name
        self.function = function
        self.position = position
        self.value = value


class Join(Record):
    """`a + b`: the concatenation of two strings or the sum of two ints."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Expr, ...]):
        self.parts = parts


class FString(Record):
    """An f-string (or `"..%s.." % x`, `"..{}..".format(x)`): its literal parts and the values of its
    plain fields (`{x}`, `{x!s}`), formatted as text; `converted` holds the indexes of the fields
    written with `!s` (or `%s`), `integers` those written with `%d` (a number only)."""

    __slots__ = ("parts", "converted", "integers")

    def __init__(self, parts: tuple[Expr, ...], converted: tuple[int, ...] = (), integers: tuple[int, ...] = ()):
        self.parts = parts
        self.converted = converted
        self.integers = integers


class ParamRef(Record):
    """A parameter of the enclosing function: known only to its callers."""

    __slots__ = ("param", "function")

    def __init__(self, param: str, function: str):
        self.param = param
        self.function = function


class EnumAuto(Record):
    """`auto()` as an enum member's value (a string in a `StrEnum`, an int in an int Enum)."""

    __slots__ = ()


class Param(Record):
    """A parameter of a function or lambda, as far as a caller is concerned, and the class its
    annotation names (what a call on it reaches: see `analysis/receivers.py`)."""

    __slots__ = ("name", "kind", "has_default", "annotation")

    def __init__(self, name: str, kind: str, has_default: bool, annotation: Instance | None = None):
        self.name = name
        self.kind = kind  # "positional_only", "positional", "var_positional", "keyword_only", "var_keyword"
        self.has_default = has_default
        self.annotation = annotation


class LambdaRef(Record):
    """A lambda, kept for its signature (a handler may be one)."""

    __slots__ = ("params",)

    def __init__(self, params: tuple[Param, ...]):
        self.params = params


class PartialRef(Record):
    """`functools.partial(func, *args, **kwargs)`: func with some arguments bound."""

    __slots__ = ("func", "positional", "keywords")

    def __init__(self, func: Expr, positional: int, keywords: tuple[str, ...]):
        self.func = func
        self.positional = positional
        self.keywords = keywords


class Opaque(Record):
    """Something static analysis cannot turn into a message type, and why."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


class CallResult(Record):
    """What a call returns (`Node(...)`, `make_node()`): an instance when `func` is a class, what
    the function returns otherwise; never a message type (`reason` says so)."""

    __slots__ = ("func", "reason")

    def __init__(self, func: Expr, reason: str):
        self.func = func
        self.reason = reason


class Instance(Record):
    """An instance of one of `classes`, as an annotation says (`Node`, `Optional[Node]`, `A | B`,
    `"Node"`); names are resolved like any other."""

    __slots__ = ("classes",)

    def __init__(self, classes: tuple[Expr, ...]):
        self.classes = classes


class Typed(Record):
    """An annotated assignment (`node: Node = make()`): `value` is what it holds, `hint` its declared type."""

    __slots__ = ("value", "hint")

    def __init__(self, value: Expr, hint: Instance):
        self.value = value
        self.hint = hint


class Entered(Record):
    """The target of `with value as name`: typed as `value`, never a message type (`reason` says so)."""

    __slots__ = ("value", "reason")

    def __init__(self, value: Expr, reason: str):
        self.value = value
        self.reason = reason


class Construction(Record):
    """A call of a message class of the rule packs (`Message(MSG_TYPE, sender)`): the class, the
    arguments (before any `*args`) and where it was built."""

    __slots__ = ("func", "args", "keywords", "position")

    def __init__(self, func: Expr, args: tuple[Expr, ...], keywords: tuple[tuple[str, Expr], ...],
                 position: Position):
        self.func = func
        self.args = args
        self.keywords = keywords
        self.position = position

    def argument(self, position: int | None, keyword: str | None) -> Expr | None:
        for name, value in self.keywords:
            if keyword is not None and name == keyword:
                return value
        return self.args[position] if position is not None and position < len(self.args) else None


class DictEnvelope(Record):
    """A dict literal carrying an envelope key: the type under `key`, and where it was built."""

    __slots__ = ("key", "value", "position")

    def __init__(self, key: str, value: Expr, position: Position):
        self.key = key
        self.value = value
        self.position = position


class GetAttr(Record):
    """`getattr(obj, name)`: an attribute looked up by name (a proxy's remote method, when called);
    as a value, the result of a call (`reason` says so)."""

    __slots__ = ("base", "name", "reason")

    def __init__(self, base: Expr, name: Expr, reason: str):
        self.base = base
        self.name = name
        self.reason = reason


class LoopItem(Record):
    """A variable bound by `for name in source` (`index`: its place in `for key, value in ...`, else
    None): each element of `source` in turn, within the loop's lines (`position` to `end_line`).
    Unexpanded, it is unresolved: `what` names the variable for the reason."""

    __slots__ = ("source", "index", "position", "end_line", "what")

    def __init__(self, source: Expr, index: int | None, position: Position, end_line: int, what: str):
        self.source = source
        self.index = index
        self.position = position
        self.end_line = end_line
        self.what = what


class Elements(Record):
    """A list, tuple or set literal a loop iterates over (as a value, `reason` says it is none)."""

    __slots__ = ("items", "reason")

    def __init__(self, items: tuple[Expr, ...], reason: str):
        self.items = items
        self.reason = reason


class Mapping(Record):
    """A dict literal a loop iterates over, or whose `.items()` it does."""

    __slots__ = ("keys", "values", "reason")

    def __init__(self, keys: tuple[Expr, ...], values: tuple[Expr, ...], reason: str):
        self.keys = keys
        self.values = values
        self.reason = reason


class Items(Record):
    """`base.items()`, `base.keys()` or `base.values()` (`which`), iterated by a loop."""

    __slots__ = ("base", "which", "reason")

    def __init__(self, base: Expr, which: str, reason: str):
        self.base = base
        self.which = which
        self.reason = reason


class FunctionRef(Record):
    """A function of the module by its qualified name (the function a decorator registers)."""

    __slots__ = ("qualname",)

    def __init__(self, qualname: str):
        self.qualname = qualname


class Either(Record):
    """A local variable bound to one of several message objects (`if ...: msg = A(...) else: msg = B(...)`)."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[Expr, ...]):
        self.values = values


Expr = (
    Literal | NameRef | AttrRef | SelfAttrRef | LocalRef | Join | FString | ParamRef | EnumAuto | LambdaRef
    | PartialRef | Opaque | CallResult | Instance | Typed | Entered | Construction | DictEnvelope | Either
    | GetAttr | LoopItem | Elements | Mapping | Items | FunctionRef
)


class AttributeStore(Record):
    """`target.attr = value` for an attribute that sets a message object's type (`msg.type = X`)."""

    __slots__ = ("target", "attr", "value", "position", "function")

    def __init__(self, target: Expr, attr: str, value: Expr, position: Position, function: str | None):
        self.target = target
        self.attr = attr
        self.value = value
        self.position = position
        self.function = function


class AwaitedAttribute(Record):
    """`await base.attr`: an attribute awaited, not called (a proxy's attribute read, see `ProxySpec`)."""

    __slots__ = ("base", "attr", "position", "function")

    def __init__(self, base: Expr, attr: str, position: Position, function: str | None):
        self.base = base
        self.attr = attr
        self.position = position
        self.function = function


class Assignment(Record):
    """A name bound by `NAME = value` (module level or class body)."""

    __slots__ = ("value", "position")

    def __init__(self, value: Expr, position: Position):
        self.value = value
        self.position = position


class ClassFacts(Record):
    """A top-level class: its bases (to recognise Enums), simple class attributes, and what its
    methods store on `self` (`self.comm = Node(...)`, `self.comm: Node`, class-level `comm: Node`)."""

    __slots__ = ("name", "position", "bases", "attributes", "instance_attributes")

    def __init__(self, name: str, position: Position, bases: tuple[Expr, ...],
                 attributes: dict[str, Assignment] | None = None,
                 instance_attributes: dict[str, tuple[Expr, ...]] | None = None):
        self.name = name
        self.position = position
        self.bases = bases
        self.attributes = {} if attributes is None else attributes
        self.instance_attributes = {} if instance_attributes is None else instance_attributes


class ImportBinding(Record):
    """A name bound by an import.

    `import a.b as m` -> module="a.b", name=None; `from .x import y` -> level=1,
    module="x", name="y"; `import a.b` binds `a` -> module="a", name=None.
    """

    __slots__ = ("module", "level", "name", "position")

    def __init__(self, module: str, level: int, name: str | None, position: Position):
        self.module = module
        self.level = level
        self.name = name
        self.position = position


class FunctionFacts(Record):
    """A function or method definition: what its callers must pass.

    `params` leave out the bound `self`/`cls` of methods, so that they line up
    with the arguments of `obj.method(...)`.
    """

    __slots__ = ("qualname", "name", "kind", "params", "is_async", "position", "returns")

    def __init__(self, qualname: str, name: str, kind: str, params: tuple[Param, ...], is_async: bool,
                 position: Position, returns: tuple[Expr, ...] = ()):
        self.qualname = qualname
        self.name = name
        self.kind = kind  # "function", "method", "staticmethod", "classmethod", "property"
        self.params = params
        self.is_async = is_async
        self.position = position
        self.returns = returns  # its return annotation, else what its `return`s return (typing only)


class Call(Record):
    """A call of a named function or method, whatever it turns out to be.

    The link stage decides which calls matter: rule-pack APIs, inferred
    wrappers, dispatcher registrations. `args` are the positional arguments
    before any `*args`. `position` is where the call starts, `end` just after its closing parenthesis.
    `spread` is what its first `**` passes (`**kwargs`, a wrapper's parameter passed on), if any.
    """

    __slots__ = ("name", "callee", "args", "keywords", "star_args", "star_kwargs", "position", "function", "bare",
                 "end", "spread")

    def __init__(self, name: str, callee: Expr, args: tuple[Expr, ...], keywords: tuple[tuple[str, Expr], ...],
                 star_args: bool, star_kwargs: bool, position: Position, function: str | None, bare: bool,
                 end: Position | None = None, spread: Expr | None = None):
        self.name = name
        self.callee = callee
        self.args = args
        self.keywords = keywords
        self.star_args = star_args
        self.star_kwargs = star_kwargs
        self.position = position
        self.function = function
        self.bare = bare  # the whole expression statement: its result (a coroutine?) is dropped
        self.end = end
        self.spread = spread

    def argument(self, position: int | None, keyword: str | None) -> Expr | None:
        """The argument bound to a parameter, or None when the call does not pass it."""
        for name, value in self.keywords:
            if keyword is not None and name == keyword:
                return value
        if position is not None and position < len(self.args):
            return self.args[position]
        return None


class Payload(Record):
    """A dict literal carrying a payload key: an envelope sent wherever it goes."""

    __slots__ = ("key", "value", "position", "function")

    def __init__(self, key: str, value: Expr, position: Position, function: str | None):
        self.key = key
        self.value = value
        self.position = position
        self.function = function


class DispatchCase(Record):
    """`param[key] == value` (or `.get`, `in (...)`, `match`) inside a function."""

    __slots__ = ("function", "param", "key", "value", "position")

    def __init__(self, function: str, param: str, key: str, value: Expr, position: Position):
        self.function = function
        self.param = param
        self.key = key
        self.value = value
        self.position = position


class Received(Record):
    """A comparison (`==`, `in (...)`, `match`) inside a function of the message type a receive call
    returned: `call` is its name, and the type its result's `element` or `attribute`."""

    __slots__ = ("function", "call", "element", "attribute", "value", "position")

    def __init__(self, function: str, call: str, element: int | None, attribute: str | None, value: Expr,
                 position: Position):
        self.function = function
        self.call = call
        self.element = element
        self.attribute = attribute
        self.value = value
        self.position = position


class ParseFailure(Record):
    """Why a file could not be analysed, and where: `kind` is "parse" (syntax or
    encoding), "read" (the file system refused) or "size" (too large to parse)."""

    __slots__ = ("message", "position", "kind")

    def __init__(self, message: str, position: Position, kind: str = "parse"):
        self.message = message
        self.position = position
        self.kind = kind


class Suppression(Record):
    """A `# fedcl-lint: ignore[CODES] reason` comment (see suppressions.py)."""

    __slots__ = ("line", "column", "codes", "reason")

    def __init__(self, line: int, column: int, codes: tuple[str, ...] | None, reason: str | None):
        self.line = line
        self.column = column
        self.codes = codes  # None: a bare `ignore`, every code; `ignore[]`: none
        self.reason = reason


class ModuleFacts(Record):
    """Everything the later stages need to know about one file."""

    __slots__ = ("constants", "classes", "imports", "star_imports", "functions", "calls", "payloads",
                 "dispatch_cases", "failure", "suppressions", "attribute_stores", "awaited", "decorations", "loops",
                 "received")

    def __init__(
        self,
        constants: dict[str, Assignment] | None = None,
        classes: dict[str, ClassFacts] | None = None,
        imports: dict[str, ImportBinding] | None = None,
        star_imports: tuple[tuple[str, int], ...] = (),
        functions: dict[str, FunctionFacts] | None = None,
        calls: tuple[Call, ...] = (),
        payloads: tuple[Payload, ...] = (),
        dispatch_cases: tuple[DispatchCase, ...] = (),
        failure: ParseFailure | None = None,
        suppressions: tuple[Suppression, ...] = (),  # `# fedcl-lint: ignore[...]` comments, by line
        attribute_stores: tuple[AttributeStore, ...] = (),
        awaited: tuple[AwaitedAttribute, ...] = (),
        decorations: tuple[tuple[Position, str], ...] = (),  # a decorator call's position -> the function below
        loops: bool = False,  # whether an expression holds a loop's variable (see `LoopItem`)
        received: tuple[Received, ...] = (),
    ):
        self.constants = {} if constants is None else constants
        self.classes = {} if classes is None else classes
        self.imports = {} if imports is None else imports
        self.star_imports = star_imports
        self.functions = {} if functions is None else functions
        self.calls = calls
        self.payloads = payloads
        self.dispatch_cases = dispatch_cases
        self.failure = failure
        self.suppressions = suppressions
        self.attribute_stores = attribute_stores
        self.awaited = awaited
        self.decorations = decorations
        self.loops = loops
        self.received = received
