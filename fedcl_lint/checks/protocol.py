"""The protocol checks (FCL001-FCL008): each reads one message type's entry of the table, or one site."""

from __future__ import annotations

from collections.abc import Iterator

from fedcl_lint.analysis.facts import Param
from fedcl_lint.analysis.link import DISPATCHER, LinkedSite
from fedcl_lint.analysis.table import MessageEntry, Status
from fedcl_lint.checks.base import CheckContext, EntryCheck, SiteCheck, describe, related_sites
from fedcl_lint.settings.rulepack import RulePack
from fedcl_lint.types import Finding, Mechanism, MessageType, Related, Role, Severity, ordered


def _alternatives(pack: RulePack, channels: tuple[Mechanism, ...], role: Role) -> str:
    """The API calls that send on one of `channels` (or register into a registry serving one)."""
    names = list(dict.fromkeys(name for channel in channels for name in pack.call_names(channel, role)))
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

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        if entry.status is not Status.MISMATCH:
            return
        handled = entry.handle_mechanisms
        others = ordered(handled, ctx.pack.channel_order)  # the channels its handlers' registries serve
        for send in entry.sends:
            mechanism = send.mechanism
            if mechanism in handled:
                continue
            handler_apis = ", ".join(sorted({h.api for h in entry.handles}))
            manual = _manual_note(ctx.pack, send)
            change_send = manual or f"send it with {_alternatives(ctx.pack, others, Role.SEND)}"
            change_handler = f"register it with {_alternatives(ctx.pack, (mechanism,), Role.HANDLE)}"
            declared = entry.message_type.declared(ctx.policy)
            if declared is None:
                fix = f"{change_send}{'; or' if manual else ', or'} {change_handler}"
            else:
                fix = (change_send if declared in handled else change_handler) + (
                    f" (the protocol policy declares `{entry.message_type}` as {declared})"
                )
            message = (
                f"`{entry.message_type}` is sent {describe(mechanism)} (`{send.api}`) but only "
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

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        if entry.status is not Status.UNHANDLED or entry.message_type.value in ctx.external:
            return
        handled = ctx.handled_entries
        value = entry.message_type.value
        suggestion = ctx.suggestions.suggest(value) if isinstance(value, str) else None  # names, not numbers
        for send in entry.sends:
            mechanism = send.mechanism
            message = (
                f"`{entry.message_type}` is sent {describe(mechanism)} (`{send.api}`) but no "
                f"handler is registered for it"
            )
            related: tuple[Related, ...] = ()
            if suggestion is not None:
                message += f"; did you mean `{suggestion}`?"
                note = f"`{suggestion}` is handled {{how}} here (`{{api}}`)"
                related = related_sites(handled[MessageType(suggestion)].handles, note)
            severity = Severity.ERROR if ctx.pack.channel(mechanism).replies else Severity.WARNING
            yield self.finding(send, message, severity=severity, related=related)


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

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        if entry.status is Status.MISMATCH or entry.message_type.value in ctx.external:
            return  # a mismatch is reported once, as FCL001; external types are sent elsewhere
        for handle in entry.handles:
            channels = handle.channels
            if entry.send_mechanisms.intersection(channels):
                continue
            if ctx.pack.sent_by_framework(entry.message_type.value, channels):
                continue  # the rule pack's [[external]]: the framework sends it itself
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

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        first_in_scope: dict[tuple[str, str, tuple[Mechanism, ...]], LinkedSite] = {}
        for handle in entry.handles:
            if handle.registry is None or not handle.registry.one_handler:
                continue  # a registry of many handlers per type (event listeners)
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

    def check_site(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        if site.message_type is not None:
            return
        message = (
            f"cannot resolve the message type of `{site.api}` ({site.role} {site.mechanism}): "
            f"{site.resolution.reason}"
        )
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

    def check_site(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        handler, registry = site.handler, site.registry
        if site.role is not Role.HANDLE or handler is None or handler.params is None or registry is None:
            return
        convention = registry.convention
        if convention is None or not convention.checked:
            return  # not said, or spread: the handler gets the sender's own arguments
        problem = _signature_problem(handler.params, len(convention.args))
        if problem is None:
            return
        subject = f"`{site.message_type}`" if site.message_type is not None else "this message"
        channels = site.channels
        # the registration's own convention, or its channels'
        how = describe(*channels) if all(ctx.pack.channel(c).convention == convention for c in channels) \
            else f"with `{site.api}`"
        message = (
            f"handler `{handler.description}` of {subject} is registered {how}, "
            f"which calls it as `{convention.call}`, but {problem}"
        )
        related: tuple[Related, ...] = ()
        if handler.definition is not None:
            related = (Related(handler.definition, None, None, f"`{handler.description}` is defined here"),)
        yield self.finding(site, message, related=related)


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


