"""What every check shares: the context it reads, its identity and documentation, how it words things.

Each check carries its own documentation (what it does, why it matters, an
example and its fix). The examples are mini projects (path -> source): the
test suite runs them, so the docs cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import ClassVar

from fedcl_lint.analysis.link import LinkedSite
from fedcl_lint.analysis.table import MessageEntry, ProtocolTable
from fedcl_lint.checks.rewrite import SendRewriter
from fedcl_lint.checks.suggestions import Suggestions
from fedcl_lint.records import field, frozen
from fedcl_lint.settings.rulepack import RulePack
from fedcl_lint.types import Finding, Fix, Location, Mechanism, MessageType, Related, Role, Severity


@frozen
class FileFailure:
    """A file that could not be analysed; `kind` as in facts.ParseFailure."""

    location: Location
    message: str
    kind: str = "parse"


@frozen
class CheckContext:
    """What the checks read: the table, the API, the broken files, the user's declarations, and the
    sources (for the fixes of findings)."""

    table: ProtocolTable
    pack: RulePack
    failures: tuple[FileFailure, ...] = ()
    policy: Mapping[str, Mechanism] = field(default_factory=dict)  # declared mechanism per key (see MessageType)
    external: frozenset[str | int] = frozenset()  # the values of message types sent or handled outside
    sources: Mapping[str, bytes] = field(default_factory=dict)  # each file's bytes as analysed, by display path

    @cached_property
    def handled_entries(self) -> Mapping[MessageType, MessageEntry]:
        """The entries with handlers, by message type (for "did you mean")."""
        return {e.message_type: e for e in self.table.entries if e.handles}

    @cached_property
    def suggestions(self) -> Suggestions:
        """Among the handled string types: an int is a number, not a name to misspell."""
        return Suggestions(t.value for t in self.handled_entries if isinstance(t.value, str))

    @cached_property
    def patterns(self) -> tuple[LinkedSite, ...]:
        """The sites whose message type is only known as a pattern (`hook_*`), in location order."""
        return tuple(site for site in self.table.unresolved if site.resolution.pattern is not None)

    def matching(self, value: str | int, role: Role, channels: tuple[Mechanism, ...] = ()) -> list[LinkedSite]:
        """The pattern sites of `role` (on one of `channels`, if given) whose pattern matches `value`."""
        return [site for site in self.patterns if site.role is role
                and (not channels or any(channel in channels for channel in site.channels))
                and site.resolution.pattern is not None and site.resolution.pattern.matches(value)]

    @cached_property
    def open_channels(self) -> frozenset[Mechanism]:
        """The channels on which any message may be handled: by a catch-all handler (see `is_wildcard`),
        or by a bound service whose methods cannot all be listed (its class is unknown, or has bases
        outside the analysed tree). A send there is never reported unhandled or lost."""
        services = {spec.name for spec in self.pack.services}
        return frozenset(
            channel for site in self.table.sites
            if is_wildcard(site) or (site.role is Role.HANDLE and site.message_type is None
                                     and site.resolution.pattern is None and site.api in services)
            for channel in site.channels
        )

    @cached_property
    def _calls(self) -> Mapping[tuple[object, ...], list[LinkedSite]]:
        return {(legs[0].location, legs[0].api, legs[0].role): legs for legs in by_call(self.table.sites)}

    def legs(self, site: LinkedSite) -> list[LinkedSite]:
        """The sites of the call that makes `site` (itself included; see `by_call`)."""
        return self._calls.get((site.location, site.api, site.role), [site])

    @cached_property
    def rewriter(self) -> SendRewriter:
        """The fixes of sends: a file's source is parsed (by libcst) only when a finding's fix needs it."""
        return SendRewriter(self.pack, self.policy, self.sources)


class Check:
    """A diagnostic: its identity and its documentation. Subclasses say what one finding reads:
    one message type's entry, one site, or one broken file."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[dict[str, str]]
    fix: ClassVar[dict[str, str]]
    fix_text: ClassVar[str]
    # more mini projects, each (title, what it shows, files): what the check finds through reflection
    # (bound services, proxies, decorators), registration loops and templates
    examples: ClassVar[tuple[tuple[str, str, dict[str, str]], ...]] = ()

    def finding(self, site: LinkedSite, message: str, *, severity: Severity | None = None,
                related: tuple[Related, ...] = (), fix: Fix | None = None) -> Finding:
        if site.built_at is not None and site.built_at != site.location:
            related += (Related(site.built_at, None, None, "the message object is built here"),)
        if site.handler is not None and site.handler.registered_at is not None:
            related += (Related(site.handler.registered_at, None, None, f"bound here (`{site.api}`)"),)
        if site.loop_at is not None:
            related += (Related(site.loop_at, None, None, "one site for each element of this loop"),)
        return Finding(
            code=self.code,
            severity=severity or self.severity,
            message=message,
            location=site.location,
            message_type=site.message_type,
            mechanism=site.mechanism,
            related=related,
            fix=fix,
            pattern=str(site.resolution.pattern) if site.resolution.pattern is not None else None,
        )


class EntryCheck(Check):
    """A check of one message type: its findings depend on that entry alone (and, for
    suggestions, on which other types are handled, and on the sites known only as patterns)."""

    def check_entry(self, entry: MessageEntry, ctx: CheckContext) -> Iterator[Finding]:
        raise NotImplementedError

    def check_pattern(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        """Findings at a site whose message type is only known as a pattern (none by default)."""
        return iter(())


class SiteCheck(Check):
    """A check of one site: its findings depend on that site alone."""

    forwarding: ClassVar[bool] = False  # also the calls inside wrappers that pass a parameter on

    def check_site(self, site: LinkedSite, ctx: CheckContext) -> Iterator[Finding]:
        raise NotImplementedError


def describe(*channels: Mechanism) -> str:
    """How a sentence says a channel (`over rpc`, `as an event`, ``on `notify` ``), or the channels a
    registry serves (``on `call` and `notify` ``)."""
    if len(channels) == 1:
        channel = channels[0]
        if channel == Mechanism.RPC:
            return "over rpc"
        return "as an event" if channel == Mechanism.EVENT else f"on `{channel}`"
    names = [f"`{c}`" for c in channels]
    return f"on {', '.join(names[:-1])} and {names[-1]}"


def is_wildcard(site: LinkedSite) -> bool:
    """Whether a handle site registers a catch-all handler: for its registry's `wildcard` (`"*"`), which
    takes every message sent on the channels the registry serves."""
    registry = site.registry
    return site.role is Role.HANDLE and registry is not None and registry.wildcard is not None \
        and site.message_type is not None and site.message_type.value == registry.wildcard


def by_call(sites: Iterable[LinkedSite]) -> list[list[LinkedSite]]:
    """Sites grouped by the call that makes them, in order: a wrapper that sends on two channels
    (`send_request` or `fire_and_forget`, by an argument) makes a site per channel at each of its
    calls, and what is wrong at one call is one finding."""
    calls: dict[tuple[object, ...], list[LinkedSite]] = {}
    for site in sites:
        calls.setdefault((site.location, site.api, site.role), []).append(site)
    return list(calls.values())


def related_sites(sites: tuple[LinkedSite, ...] | list[LinkedSite], note: str) -> tuple[Related, ...]:
    """Related locations; `note` may use {api} and {how} (e.g. "over rpc")."""
    return tuple(
        Related(s.location, s.role, s.mechanism, note.format(api=s.api, how=describe(*s.channels))
                + (f", for each element of the loop at line {s.loop_at.line}" if s.loop_at is not None else ""))
        for s in sites
    )
