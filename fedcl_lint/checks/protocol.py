"""The protocol checks (FCL001-FCL008): each reads one message type's entry of the table, or one site."""

from __future__ import annotations

from collections.abc import Iterator

from fedcl_lint.analysis.facts import Param
from fedcl_lint.analysis.link import DISPATCHER, Arguments, LinkedSite
from fedcl_lint.analysis.table import MessageEntry, Status
from fedcl_lint.checks.base import (
    CheckContext,
    EntryCheck,
    SiteCheck,
    by_call,
    describe,
    is_wildcard,
    related_sites,
)
from fedcl_lint.settings.rulepack import Convention, RulePack
from fedcl_lint.types import Finding, Mechanism, MessageType, Related, Role, Severity, ordered

# The packs of the examples that show reflection (see docs/rule-packs.md): each page shows the one it uses.
_USES_MESH = "[tool.fedcl-lint]\nrules = [\"mesh.toml\"]\n"
_MESH_HEAD = (
    "[pack]\nversion = 2\nname = \"mesh\"\n\n"
    "[channels.rpc]\ntitle = \"Remote calls\"\ndescription = \"A peer calls a method of a bound service.\"\n"
    "handler_args = [\"payload\"]\nreplies = true\none_handler = true\n"
)
_MESH_SERVICES = (
    "\n# node.bind(service): each public method is a handler named after it, called with each send's arguments\n"
    "[[services]]\nname = \"bind\"\nserves = [\"rpc\"]\nservice = { position = 0 }\nhandler_args = \"spread\"\n"
    "\n# proxy.fit(...) sends `fit`; `await proxy.epoch` sends `_get_property`\n"
    "[[proxies]]\nclass = \"Proxy\"\nchannel = \"rpc\"\ncoroutine = true\n"
    "attribute_message = \"_get_property\"\n"
)
_LEARNER = "class Learner:\n    async def fit(self, config):\n        return {\"loss\": 0.1}\n"
_BIND = "from learner import Learner\n\n\ndef serve(node):\n    node.bind(Learner())\n"


def _alternatives(pack: RulePack, channels: tuple[Mechanism, ...], role: Role, besides: str | None = None) -> str:
    """The API calls that send on one of `channels` (or register into a registry serving one), but
    `besides` (the call a finding is about: a wrapper the project defines may not send where the
    pack declares it does); "" when `besides` was the only one."""
    names = list(dict.fromkeys(name for channel in channels for name in pack.call_names(channel, role)))
    if besides in names:
        names.remove(besides)
        if not names:
            return ""
    return " or ".join(f"`{n}`" for n in names) if names else f"a {role} call on {' or '.join(channels)}"


def _manual_note(pack: RulePack, send: LinkedSite) -> str | None:
    """What the rule pack says to do by hand about a direct send it declares no rewrite target for
    (a `[[rewrites]]` entry with `manual`, e.g. `push_event`, called on an object without the other
    send): the message says that, not a call its receiver does not have."""
    rewrite = pack.rewrite(send.api) if not send.via else None
    if rewrite is None or rewrite.target is not None or not rewrite.manual.strip():
        return None
    return rewrite.manual.strip().rstrip(".")


class MechanismMismatch(EntryCheck):
    code = "FCL001"
    name = "mechanism-mismatch"
    severity = Severity.ERROR
    summary = "A message type is sent on one mechanism and handled only on the other."
    why = (
        "RPC handlers and event listeners live in two registries that never see each other. "
        "A message sent as an event to a node that registered an RPC handler for it (or the "
        "reverse) is silently dropped: nothing is delivered, nothing fails, and the sender "
        "may even get `True` back. This is the MOE-FedCL SHUTDOWN bug."
    )
    example = {
        "server.py": (
            "async def shutdown(comm, client_id):\n"
            "    await comm.send_control_message(client_id, \"SHUTDOWN\", {})\n"
        ),
        "client.py": (
            "def setup(comm, on_shutdown):\n"
            "    comm.register_message_handler(\"SHUTDOWN\", on_shutdown)\n"
        ),
    }
    fix = {
        "server.py": (
            "async def shutdown(comm, client_id):\n"
            "    await comm.send_business_message(client_id, \"SHUTDOWN\", {})\n"
        ),
        "client.py": example["client.py"],
    }
    fix_text = (
        "Use one mechanism at both ends. Either change the send to the mechanism the handler "
        "uses (recommended when the sender needs to know the message arrived, as SHUTDOWN "
        "does), or change the registration to the mechanism the sender uses."
    )
    examples = ((
        "a registration loop",
        "A loop over an Enum (or a literal list, tuple or set, or a dict's items) registers each element: "
        "`SHUTDOWN` is handled over rpc by the loop, and sent as an event.",
        {
            "messages.py": "from enum import Enum\n\n\nclass Kind(str, Enum):\n    TRAIN = \"TRAIN\"\n"
                           "    SHUTDOWN = \"SHUTDOWN\"\n",
            "client.py": (
                "from messages import Kind\n\n\n"
                "def setup(comm, on_message):\n"
                "    for kind in Kind:\n"
                "        comm.register_message_handler(kind.value, on_message)\n"
            ),
            "server.py": (
                "from messages import Kind\n\n\n"
                "async def stop(comm, cid):\n"
                "    await comm.send_business_message(cid, Kind.TRAIN, {})\n"
                "    await comm.send_control_message(cid, Kind.SHUTDOWN, {})\n"
            ),
        },
    ),)

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        if entry.status is not Status.MISMATCH:
            return
        handled = entry.handle_mechanisms
        others = ordered(handled, ctx.pack.channel_order)  # the channels its handlers' registries serve
        for legs in by_call(entry.sends):
            lost = [send for send in legs
                    if send.mechanism not in handled and send.mechanism not in ctx.open_channels
                    and not ctx.matching(entry.message_type.value, Role.HANDLE, (send.mechanism,))]
            if not lost:
                continue  # handled on its channel, or may be by a handler known only as a pattern
            sent_on = ordered((s.mechanism for s in lost), ctx.pack.channel_order)
            send = next(s for s in lost if s.mechanism == sent_on[0])
            handler_apis = ", ".join(sorted({h.api for h in entry.handles}))
            manual = _manual_note(ctx.pack, send)
            senders = _alternatives(ctx.pack, others, Role.SEND, besides=send.api)
            change_send = manual or (f"send it with {senders}" if senders else None)
            change_handler = f"register it with {_alternatives(ctx.pack, sent_on, Role.HANDLE)}"
            declared = entry.message_type.declared(ctx.policy)
            if declared is not None:
                wanted = change_send if declared in handled else change_handler
                fix = f"{wanted or change_handler} (the protocol policy declares `{entry.message_type}` as {declared})"
            elif change_send is None:
                fix = change_handler
            else:
                fix = f"{change_send}{'; or' if manual else ', or'} {change_handler}"
            if send.via and not senders and not manual:
                fix += (f" (`{send.api}` is defined in the project, and its definition sends "
                        f"{describe(*sent_on)}, whatever a rule pack declares)")
            message = (
                f"`{entry.message_type}` is sent {describe(*sent_on)} (`{send.api}`) but only "
                f"handled {describe(*others)} (`{handler_apis}`), so it is never delivered; {fix}"
            )
            yield self.finding(
                send, message, related=related_sites(entry.handles, "handled {how} here (`{api}`)"),
                fix=ctx.rewriter.fix(send, entry),
            )


class UnhandledMessage(EntryCheck):
    code = "FCL002"
    name = "unhandled-message"
    severity = Severity.ERROR
    summary = "A message type is sent but no handler is registered for it anywhere (error for rpc, warning for events)."
    why = (
        "An RPC with no handler fails at run time on the receiving node; an event with no "
        "listener is dropped without a word. A near-miss name (`shutdown` vs `SHUTDOWN`) is "
        "the usual cause."
    )
    example = {
        "server.py": "async def stop(comm, cid):\n    await comm.send_business_message(cid, \"shutdown\", {})\n",
        "client.py": "def setup(comm, handler):\n    comm.register_message_handler(\"SHUTDOWN\", handler)\n",
    }
    fix = {
        "server.py": "async def stop(comm, cid):\n    await comm.send_business_message(cid, \"SHUTDOWN\", {})\n",
        "client.py": example["client.py"],
    }
    fix_text = "Register a handler for the message type on the receiving side, or correct the name sent."
    examples = ((
        "a proxy",
        "A proxy's method call sends the method's name, and awaiting one of its attributes sends the pack's "
        "`attribute_message`: no node registers `_get_property`, so the read of `learner.epoch` fails.",
        {
            "pyproject.toml": _USES_MESH,
            "mesh.toml": _MESH_HEAD + _MESH_SERVICES,
            "learner.py": _LEARNER,
            "client.py": _BIND,
            "server.py": (
                "from rpc import Proxy\n\n\n"
                "async def train(learner: Proxy):\n"
                "    await learner.fit({\"epochs\": 1})\n"
                "    return await learner.epoch\n"
            ),
        },
    ),)

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        if entry.status is not Status.UNHANDLED or entry.message_type.value in ctx.external:
            return
        if ctx.matching(entry.message_type.value, Role.HANDLE):
            return  # a handler known only as a pattern (`hook_*`) may take it
        handled = ctx.handled_entries
        value = entry.message_type.value
        suggestion = ctx.suggestions.suggest(value) if isinstance(value, str) else None  # names, not numbers
        for legs in by_call(entry.sends):
            legs = [s for s in legs if s.mechanism not in ctx.open_channels]  # the others may reach a catch-all
            if not legs:
                continue
            channels = ordered((s.mechanism for s in legs), ctx.pack.channel_order)
            send = next(s for s in legs if s.mechanism == channels[0])
            message = (
                f"`{entry.message_type}` is sent {describe(*channels)} (`{send.api}`) but no "
                f"handler is registered for it"
            )
            related: tuple[Related, ...] = ()
            if suggestion is not None:
                message += f"; did you mean `{suggestion}`?"
                note = f"`{suggestion}` is handled {{how}} here (`{{api}}`)"
                related = related_sites(handled[MessageType(suggestion)].handles, note)
            replies = any(ctx.pack.channel(channel).replies for channel in channels)
            yield self.finding(send, message, severity=Severity.ERROR if replies else Severity.WARNING, related=related)

    def check_pattern(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        """A send known only as a pattern (`hook_*`) that no handler's type matches, whatever its unknown
        parts are (a handler known only as a pattern might: then nothing is said)."""
        pattern = site.resolution.pattern
        if site.role is not Role.SEND or pattern is None or site.mechanism in ctx.open_channels \
                or any(pattern.matches(t.value) for t in ctx.handled_entries) \
                or any(pattern.matches(value) for value in ctx.external) \
                or any(other.role is Role.HANDLE for other in ctx.patterns):
            return
        message = (f"`{pattern}` is sent {describe(site.mechanism)} (`{site.api}`) but no handler is registered "
                   f"for a message type it matches")
        yield self.finding(site, message, severity=Severity.ERROR if ctx.pack.channel(site.mechanism).replies
                           else Severity.WARNING)


class UnusedHandler(EntryCheck):
    code = "FCL003"
    name = "unused-handler"
    severity = Severity.WARNING
    summary = "A handler is registered for a message type that is never sent on its mechanism."
    why = (
        "A handler nobody calls is dead code at best; at worst it is the receiving half of a "
        "protocol whose sender was renamed or removed, and the feature silently stopped working."
    )
    example = {
        "client.py": "def setup(comm, handler):\n    comm.register_message_handler(\"PAUSE\", handler)\n",
    }
    fix = {
        "client.py": example["client.py"],
        "server.py": "async def pause(comm, cid):\n    await comm.send_business_message(cid, \"PAUSE\", {})\n",
    }
    fix_text = "Send the message somewhere (on the handler's mechanism), or remove the handler."
    examples = ((
        "a template",
        "A wrapper's parameter in a template (`f\"hook_{phase}\"`, `%`, `.format`, `+`) is filled by each "
        "caller. Where a caller's argument is unknown the type is the pattern `hook_*`, which may send "
        "`hook_on_error`; nothing sends `hooks_after_task`.",
        {
            "client.py": (
                "def setup(transport, on_hook):\n"
                "    transport.register_event_listener(\"me\", \"hook_before_task\", on_hook)\n"
                "    transport.register_event_listener(\"me\", \"hook_on_error\", on_hook)\n"
                "    transport.register_event_listener(\"me\", \"hooks_after_task\", on_hook)\n"
            ),
            "task.py": (
                "class Task:\n"
                "    def __init__(self, comm, stage):\n"
                "        self.comm = comm\n"
                "        self.stage = stage\n\n"
                "    async def _run_hooks(self, phase):\n"
                "        await self.comm.send_control_message(\"me\", f\"hook_{phase}\", {})\n\n"
                "    async def run(self):\n"
                "        await self._run_hooks(\"before_task\")\n"
                "        await self._run_hooks(self.stage)\n"
            ),
        },
    ),)

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        if entry.status is Status.MISMATCH or entry.message_type.value in ctx.external:
            return  # a mismatch is reported once, as FCL001; external types are sent elsewhere
        for handle in entry.handles:
            channels = handle.channels
            if entry.send_mechanisms.intersection(channels) or is_wildcard(handle):
                continue  # a catch-all handler takes whatever is sent
            if ctx.pack.sent_by_framework(entry.message_type.value, channels):
                continue  # the rule pack's [[external]]: the framework sends it itself
            if ctx.matching(entry.message_type.value, Role.SEND, channels):
                continue  # may be sent by a send known only as a pattern (`hook_*`)
            if entry.sends:
                sent = ordered(entry.send_mechanisms, ctx.pack.channel_order)
                message = (
                    f"`{entry.message_type}` is handled {describe(*channels)} (`{handle.api}`) but only "
                    f"ever sent {describe(*sent)}, so this handler never runs"
                )
                related = related_sites(entry.sends, "sent {how} here (`{api}`)")
            else:
                message = (
                    f"`{entry.message_type}` has a handler {describe(*channels)} (`{handle.api}`) "
                    f"but is never sent"
                )
                related = ()
            yield self.finding(handle, message, related=related)

    def check_pattern(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        """A handler known only as a pattern whose mechanism sends no type it matches (and no send
        known only as a pattern, which might)."""
        pattern = site.resolution.pattern
        if site.role is not Role.HANDLE or pattern is None \
                or any(pattern.matches(e.message_type.value) and e.send_mechanisms.intersection(site.channels)
                       for e in ctx.table.entries) \
                or any(pattern.matches(value) for value in ctx.external) \
                or any(other.role is Role.SEND and other.mechanism in site.channels for other in ctx.patterns):
            return
        message = (f"`{pattern}` has a handler {describe(*site.channels)} (`{site.api}`) but no message type it "
                   f"matches is sent")
        yield self.finding(site, message)


class DuplicateHandler(EntryCheck):
    code = "FCL004"
    name = "duplicate-handler"
    severity = Severity.WARNING
    summary = "The same message type gets a second rpc handler in the same class, function or module body."
    why = (
        "A node's rpc handler table holds one handler per message type: the later registration "
        "silently replaces the earlier one. In a dispatcher, the first branch comparing the type "
        "wins and a repeated comparison never runs. Registrations in different top-level classes or "
        "functions are assumed to run on different nodes and are not reported."
    )
    example = {
        "client.py": (
            "class Client:\n"
            "    def setup(self, comm):\n"
            "        comm.register_message_handler(\"TRAIN\", self.train)\n"
            "        comm.register_message_handler(\"TRAIN\", self.train_v2)\n"
        ),
        "server.py": "async def go(comm, cid):\n    await comm.send_business_message(cid, \"TRAIN\", {})\n",
    }
    fix = {
        "client.py": (
            "class Client:\n"
            "    def setup(self, comm):\n"
            "        comm.register_message_handler(\"TRAIN\", self.train_v2)\n"
        ),
        "server.py": example["server.py"],
    }
    fix_text = "Keep one registration per message type, or dispatch inside a single handler."
    examples = ((
        "decorators",
        "A handle call declared with `decorator = true` registers the function below it.",
        {
            "pyproject.toml": _USES_MESH,
            "mesh.toml": _MESH_HEAD + (
                "\n[[calls]]\nname = \"handler\"\nrole = \"handle\"\nserves = [\"rpc\"]\n"
                "message_type = { position = 0 }\ndecorator = true\n"
                "\n[[calls]]\nname = \"call\"\nrole = \"send\"\nchannel = \"rpc\"\n"
                "message_type = { position = 1 }\n"
            ),
            "client.py": (
                "def setup(node):\n"
                "    @node.handler(\"train\")\n"
                "    async def train(payload):\n"
                "        return 1\n\n"
                "    @node.handler(\"train\")\n"
                "    async def train_v2(payload):\n"
                "        return 2\n"
            ),
            "server.py": "async def go(node, peer):\n    await node.call(peer, \"train\", {})\n",
        },
    ),)

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        first_in_scope: dict[tuple[str, str, tuple[Mechanism, ...]], LinkedSite] = {}
        for handle in entry.handles:
            if handle.registry is None or not handle.registry.one_handler:
                continue  # a registry of many handlers per type (event listeners)
            if handle.handler is not None and handle.handler.registered_at is not None:
                continue  # a bound method: each binding is assumed to be a node of its own
            scope = (handle.location.path, (handle.function or "").split(".")[0], handle.channels)
            first = first_in_scope.setdefault(scope, handle)
            if first is handle:
                continue
            dispatcher = _dispatcher(handle)
            if dispatcher is not None and dispatcher == _dispatcher(first):  # the first matching branch wins
                message = (
                    f"`{entry.message_type}` is already compared in an earlier branch of the dispatcher "
                    f"`{dispatcher}` at {first.location}; this branch never runs"
                )
                yield self.finding(handle, message, related=related_sites([first], "compared first here"))
                continue
            channel = handle.mechanism.value
            message = (
                f"`{entry.message_type}` already has {'an' if channel[:1] in 'aeiou' else 'a'} {channel} handler "
                f"registered at {first.location}; this registration silently replaces it"
            )
            yield self.finding(handle, message, related=related_sites([first], "first registered here (`{api}`)"))


def _dispatcher(site: LinkedSite) -> str | None:
    """The dispatcher a site is a comparison of, if it is one (see `link.Linker._dispatch_sites`)."""
    return site.via[0][: -len(DISPATCHER)] if site.via and site.via[0].endswith(DISPATCHER) else None


class UnresolvedMessageType(SiteCheck):
    code = "FCL005"
    name = "unresolved-message-type"
    severity = Severity.INFO
    summary = "A call site's message type cannot be determined statically."
    why = (
        "An unresolved site is missing from the protocol table, so the other checks cannot "
        "vouch for it. The finding says why (a parameter, a computed value, a name outside the "
        "analysed tree) so that you can make it resolvable or accept it."
    )
    example = {
        "server.py": "async def stop(comm, cid, kind):\n    await comm.send_business_message(cid, kind.upper(), {})\n",
    }
    fix = {
        "server.py": (
            "SHUTDOWN = \"SHUTDOWN\"\n\n"
            "async def stop(comm, cid):\n    await comm.send_business_message(cid, SHUTDOWN, {})\n"
        ),
        "client.py": "def setup(comm, handler):\n    comm.register_message_handler(\"SHUTDOWN\", handler)\n",
    }
    fix_text = "Pass a literal, a module constant, a class attribute or an Enum member."
    examples = ((
        "a registration loop",
        "A loop makes a site per element only when its elements are known: a literal list, tuple, set or "
        "dict (inline, or a constant or local variable holding one), a dict's `.items()`, or an Enum.",
        {
            "client.py": (
                "def setup(comm, handler, kinds):\n"
                "    for kind in kinds:\n"
                "        comm.register_message_handler(kind, handler)\n"
            ),
        },
    ),)

    def check_site(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        if site.message_type is not None:
            return
        pattern, reason = site.resolution.pattern, site.resolution.reason
        alike = [leg for leg in ctx.legs(site) if leg.message_type is None
                 and leg.resolution.pattern == pattern and leg.resolution.reason == reason]
        channels = ordered((leg.mechanism for leg in alike), ctx.pack.channel_order)
        if site.mechanism != channels[0]:
            return  # one finding for a call, at its first channel
        how = f"{site.role} {' and '.join(channels)}"
        if pattern is not None:
            message = f"the message type of `{site.api}` ({how}) is known only as the pattern `{pattern}`: {reason}"
        else:
            message = f"cannot resolve the message type of `{site.api}` ({how}): {reason}"
        yield self.finding(site, message)


class HandlerSignature(SiteCheck):
    code = "FCL006"
    name = "handler-signature"
    severity = Severity.ERROR
    summary = "A handler cannot accept the arguments its mechanism calls it with."
    why = (
        "RPC handlers are called as `handler(source, data)`, event listeners as `handler(data)` "
        "(as the rule pack declares). A handler written for the other mechanism raises a "
        "TypeError when the message arrives; for an event, the sender never hears of it."
    )
    example = {
        "client.py": (
            "class Client:\n"
            "    def setup(self, comm, transport):\n"
            "        transport.register_event_listener(\"me\", \"PING\", self.on_ping)\n\n"
            "    async def on_ping(self, source, data):\n"
            "        pass\n"
        ),
        "server.py": "async def ping(comm):\n    await comm.send_control_message(\"me\", \"PING\", {})\n",
    }
    fix = {
        "client.py": (
            "class Client:\n"
            "    def setup(self, comm, transport):\n"
            "        transport.register_event_listener(\"me\", \"PING\", self.on_ping)\n\n"
            "    async def on_ping(self, data):\n"
            "        pass\n"
        ),
        "server.py": example["server.py"],
    }
    fix_text = "Give the handler the parameters of its mechanism, or register it on the mechanism it was written for."
    examples = ((
        "a bound service",
        "`node.bind(Learner())` makes each public method of `Learner` a handler, called with the arguments of "
        "each send (`handler_args = \"spread\"`, `method(*args, **kwargs)`): `learner.sync_info({...})` passes one "
        "positional argument, "
        "which `sync_info(self, **info)` cannot take.",
        {
            "pyproject.toml": _USES_MESH,
            "mesh.toml": _MESH_HEAD + _MESH_SERVICES,
            "learner.py": "class Learner:\n    async def sync_info(self, **info):\n        return info\n",
            "client.py": _BIND,
            "server.py": (
                "from rpc import Proxy\n\n\n"
                "async def sync(learner: Proxy):\n"
                "    await learner.sync_info({\"round\": 1})\n"
            ),
        },
    ),)

    def check_site(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        handler, registry = site.handler, site.registry
        if site.role is not Role.HANDLE or handler is None or handler.params is None or registry is None:
            return
        convention = registry.convention
        if convention is not None and convention.spread:
            yield from self._spread(site, handler.params, ctx)  # each send's own arguments, where known
            return
        if convention is None or not convention.checked:
            return  # not said
        passed = site.arguments  # what the registration passes the handler after the registry's own
        if passed is not None and passed.unknown:
            return  # `*args` or `**kwargs`: not known
        if passed is None:
            problem = _signature_problem(handler.params, len(convention.args))
            calls = convention.call
        else:
            problem = _call_problem(handler.params, len(convention.args) + passed.positional, passed.keywords)
            calls = _with_registration_arguments(convention.args, passed)
        if problem is None:
            return
        subject, how, related = _handler_words(site, ctx)
        message = (
            f"handler `{handler.description}` of {subject} is {how}, "
            f"which calls it as `{calls}`, but {problem}"
        )
        if handler.registered_at is not None:  # a bound method: name a send that can never reach it
            sends = _sends_of(site, ctx)
            if sends:
                message += f", so the send at {sends[0].location} always fails"
                related += related_sites(sends[:1], "sent {how} here (`{api}`)")
        yield self.finding(site, message, related=related)

    def _spread(self, site: LinkedSite, params: tuple[Param, ...], ctx: CheckContext) -> Iterator[Finding]:
        """A handler called with each send's own arguments (`proxy.fit(config)` calls `fit(config)`): the
        first send whose arguments it cannot take."""
        for send in _sends_of(site, ctx):
            sent = send.arguments
            if sent is None or sent.unknown:
                continue
            problem = _call_problem(params, sent.positional, sent.keywords)
            if problem is None:
                continue
            passed = f"{sent.positional} positional argument{'s' if sent.positional != 1 else ''}"
            if sent.keywords:
                passed += " and " + ", ".join(f"`{k}=`" for k in sent.keywords)
            subject, how, related = _handler_words(site, ctx)
            message = (f"handler `{site.handler.description}` of {subject} is {how}, which calls it with the "  # type: ignore[union-attr]
                       f"arguments of each send, but the send at {send.location} (`{send.api}`) passes {passed} "
                       f"and {problem}")
            yield self.finding(site, message,
                               related=related + related_sites([send], "sent {how} here (`{api}`)"))
            return


def _handler_words(site: LinkedSite, ctx: CheckContext) -> tuple[str, str, tuple[Related, ...]]:
    """How FCL006 names a handler's message type and registration (its channels when it is called as
    they say, else the registration's own convention), and where the handler is defined."""
    handler, registry = site.handler, site.registry
    assert handler is not None and registry is not None
    subject = f"`{site.message_type}`" if site.message_type is not None else "this message"
    channels = site.channels
    own = not all(ctx.pack.channel(c).convention == registry.convention for c in channels)
    how = f"registered {f'with `{site.api}`' if own else describe(*channels)}"
    if handler.registered_at is not None:
        how = f"bound {describe(*channels)} by `{site.api}`"
    related: tuple[Related, ...] = ()
    if handler.definition is not None and handler.definition != site.location:
        related = (Related(handler.definition, None, None, f"`{handler.description}` is defined here"),)
    return subject, how, related


def _sends_of(site: LinkedSite, ctx: CheckContext) -> list[LinkedSite]:
    """The sends of a handler's message type on its mechanism."""
    entry = ctx.table.entry(site.message_type) if site.message_type is not None else None
    return [s for s in entry.sends if s.mechanism in site.channels] if entry is not None else []


def _call_problem(params: tuple[Param, ...], positional: int, keywords: tuple[str, ...]) -> str | None:
    """Why a function with `params` cannot be called with `positional` arguments and `keywords`."""
    ordered = [p for p in params if p.kind in ("positional_only", "positional")]
    takes_more = any(p.kind == "var_positional" for p in params)
    takes_keywords = any(p.kind == "var_keyword" for p in params)
    if positional > len(ordered) and not takes_more:
        names = ", ".join(p.name for p in ordered) or "none"
        return f"it accepts {len(ordered)} positional argument{'s' if len(ordered) != 1 else ''} ({names})"
    filled = {p.name for p in ordered[:positional]}
    by_name = {p.name: p for p in params if p.kind in ("positional", "keyword_only")}
    for keyword in keywords:
        if keyword in filled:
            return f"it gets `{keyword}` twice"
        if keyword not in by_name and not takes_keywords:
            return f"it has no parameter `{keyword}`"
        filled.add(keyword)
    missing = [p.name for p in params if p.kind in ("positional_only", "positional", "keyword_only")
               and not p.has_default and p.name not in filled]
    if missing:
        return f"it requires {', '.join(f'`{name}`' for name in missing)}"
    return None


def _with_registration_arguments(args: tuple[str, ...], passed: Arguments) -> str:
    """How a registry calls a handler with the registration's own arguments after its own:
    `handler(request, <1 more>, event_type=...)`."""
    more = (f"<{passed.positional} more>",) if passed.positional else ()
    return Convention((*args, *more, *(f"{keyword}=..." for keyword in passed.keywords))).call


def _signature_problem(params: tuple[Param, ...], count: int) -> str | None:
    """Why a function with `params` cannot be called with `count` positional arguments."""
    positional = [p for p in params if p.kind in ("positional_only", "positional")]
    required = [p for p in positional if not p.has_default]
    required_keywords = [p.name for p in params if p.kind == "keyword_only" and not p.has_default]
    takes_more = any(p.kind == "var_positional" for p in params)
    names = ", ".join(p.name for p in positional) or "none"
    if required_keywords:
        return f"it requires the keyword argument(s) {', '.join(f'`{n}`' for n in required_keywords)}"
    if count < len(required):
        return f"it requires {len(required)} positional arguments ({names})"
    if count > len(positional) and not takes_more:
        return f"it accepts {len(positional)} positional argument{'s' if len(positional) != 1 else ''} ({names})"
    return None


class UnawaitedSend(SiteCheck):
    code = "FCL007"
    name = "unawaited-send"
    severity = Severity.ERROR
    summary = "A coroutine send is called as a bare statement: it is never awaited, so nothing is sent."
    why = (
        "Calling an `async def` only creates a coroutine; it runs when awaited or scheduled. "
        "`comm.send_business_message(...)` on a line of its own sends nothing, and Python "
        "only warns about it when the coroutine is garbage-collected, if at all."
    )
    example = {
        "server.py": "async def stop(comm, cid):\n    comm.send_business_message(cid, \"SHUTDOWN\", {})\n",
        "client.py": "def setup(comm, handler):\n    comm.register_message_handler(\"SHUTDOWN\", handler)\n",
    }
    fix = {
        "server.py": "async def stop(comm, cid):\n    await comm.send_business_message(cid, \"SHUTDOWN\", {})\n",
        "client.py": example["client.py"],
    }
    fix_text = (
        "Await the send, return it, or hand it to `asyncio.gather`, `asyncio.create_task` or "
        "`asyncio.ensure_future`."
    )
    examples = ((
        "a proxy",
        "A proxy declared `coroutine = true`: calling its method only makes the coroutine of the remote call.",
        {
            "pyproject.toml": _USES_MESH,
            "mesh.toml": _MESH_HEAD + _MESH_SERVICES,
            "learner.py": _LEARNER,
            "client.py": _BIND,
            "server.py": "from rpc import Proxy\n\n\nasync def train(learner: Proxy):\n    learner.fit({})\n",
        },
    ),)

    forwarding = True

    def check_site(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        if not site.unawaited:
            return
        what = f"`{site.message_type}`" if site.message_type is not None else "the message"
        message = (
            f"`{site.api}(...)` is not awaited: it only creates a coroutine, so {what} is never sent; "
            f"await it or schedule it (asyncio.create_task)"
        )
        yield self.finding(site, message)


class ProtocolPolicy(EntryCheck):
    code = "FCL008"
    name = "protocol-policy"
    severity = Severity.ERROR
    summary = "A send or handler contradicts the mechanism the protocol policy declares for its message type."
    why = (
        "The policy (`[tool.fedcl-lint.protocol]` in pyproject.toml) is the team's decision of "
        "which mechanism each message uses, e.g. SHUTDOWN over RPC because it must be "
        "acknowledged. Code that drifts from it re-opens the bug class the policy closed."
    )
    example = {
        "pyproject.toml": "[tool.fedcl-lint.protocol]\nSHUTDOWN = \"rpc\"\n",
        "server.py": "async def stop(comm, cid):\n    await comm.send_control_message(cid, \"SHUTDOWN\", {})\n",
        "client.py": (
            "def setup(transport, handler):\n"
            "    transport.register_event_listener(\"me\", \"SHUTDOWN\", handler)\n"
        ),
    }
    fix = {
        "pyproject.toml": example["pyproject.toml"],
        "server.py": "async def stop(comm, cid):\n    await comm.send_business_message(cid, \"SHUTDOWN\", {})\n",
        "client.py": "def setup(comm, handler):\n    comm.register_message_handler(\"SHUTDOWN\", handler)\n",
    }
    fix_text = "Use the declared mechanism at both ends, or change the policy if the decision changed."
    examples = ((
        "a registration loop",
        "Each element of the loop is a handler of its own: `SHUTDOWN`'s contradicts the policy.",
        {
            "pyproject.toml": "[tool.fedcl-lint.protocol]\nSHUTDOWN = \"rpc\"\n",
            "client.py": (
                "def setup(transport, handler):\n"
                "    for kind in (\"PAUSE\", \"SHUTDOWN\"):\n"
                "        transport.register_event_listener(\"me\", kind, handler)\n"
            ),
            "server.py": (
                "async def stop(comm, cid):\n"
                "    await comm.send_control_message(cid, \"PAUSE\", {})\n"
                "    await comm.send_control_message(cid, \"SHUTDOWN\", {})\n"
            ),
        },
    ),)

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        declared = entry.message_type.declared(ctx.policy)
        if declared is None:
            return
        for site in entry.sites:
            if declared in site.channels:
                continue
            if site.role is Role.SEND and site.mechanism not in entry.handle_mechanisms and entry.handles:
                continue  # already FCL001 at this site, whose fix follows the policy
            verb = "sends" if site.role is Role.SEND else "handles"
            message = (
                f"the protocol policy declares `{entry.message_type}` as {declared}, but this site "
                f"{verb} it {describe(*site.channels)} (`{site.api}`)"
            )
            yield self.finding(site, message)


