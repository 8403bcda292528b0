"""The protocol table for a terminal, drawn with rich.

As wide as the console (a terminal's width; piped, `COLUMNS`, else 80): the table when its
cells fit whole, else a narrow layout, one block per message type with a line per site. No
path, location or name is ever cut in the middle; only prose (why a site is unresolved)
wraps, between words.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table

from fedcl_lint.analysis.protocol import Message, Protocol, Site, Unresolved
from fedcl_lint.analysis.table import Status
from fedcl_lint.output.text import coverage_line
from fedcl_lint.refine.result import Analysis

_STATUS_STYLE = {Status.OK: "green", Status.MISMATCH: "bold red", Status.UNHANDLED: "red", Status.UNUSED: "yellow"}


def print_table(analysis: Analysis, console: Console) -> None:
    protocol = Protocol.from_table(analysis.table, analysis.pack)
    scoped = bool(protocol.scopes)  # with protocol scopes, a first column names each row's
    wide = _messages_table(protocol.messages, scoped)
    if _fits(wide, console):
        console.print(wide)
    else:
        _print_messages(protocol.messages, scoped, console)
    if protocol.unresolved:
        # the reasons may wrap between words: the table fits when it does with each cut to its longest word
        if _fits(_unresolved_table(protocol.unresolved, scoped, shortest=True), console):
            console.print(_unresolved_table(protocol.unresolved, scoped))
        else:
            _print_unresolved(protocol.unresolved, scoped, console)
    console.print(coverage_line(analysis.result), highlight=False)


def _fits(table: RenderableType, console: Console) -> bool:
    """Whether the table (its cells unwrappable) fits the console whole."""
    unbounded = console.options.update_width(1 << 20)  # measured as wide as it would be drawn
    return Measurement.get(console, unbounded, table).maximum <= console.width


def _messages_table(messages: tuple[Message, ...], scoped: bool) -> Table:
    table = Table(title="Message types", show_lines=True)
    if scoped:
        table.add_column("Protocol", no_wrap=True)
    table.add_column("Message type", style="bold", no_wrap=True)
    table.add_column("Mechanism(s)", no_wrap=True)
    table.add_column("Senders", no_wrap=True)
    table.add_column("Handlers", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for message in messages:
        table.add_row(
            *([_scope(message.scope)] if scoped else []),
            escape(str(message.message_type)),
            ", ".join(m.value for m in message.mechanisms),
            _sites(message.sends),
            _sites(message.handles),
            _status(message.status),
        )
    return table


def _print_messages(messages: tuple[Message, ...], scoped: bool, console: Console) -> None:
    """The narrow layout: the type, its status and mechanisms, then each site and its call below it."""
    console.print("[bold]Message types[/]")
    for message in messages:
        scope = _scope_label(message.scope) if scoped else ""
        mechanisms = ", ".join(m.value for m in message.mechanisms)
        console.print()
        console.print(f"[bold]{escape(str(message.message_type))}[/]{scope}  {_status(message.status)}  {mechanisms}",
                      soft_wrap=True)
        for label, sites in (("send", message.sends), ("handle", message.handles)):
            for site in sites:
                console.print(f"  {label:<6}  {escape(str(site.location))}", soft_wrap=True)
                for line in _call_lines(site, console.width - 10):
                    console.print(f"          [dim]{escape(line)}[/]", soft_wrap=True)
    console.print()


def _call_lines(site: Site, width: int) -> list[str]:
    """The call, then its `via` chain broken between calls to fit `width` where it can."""
    lines = [f"{site.api} ({site.mechanism.value})"]
    current = ""
    for hop in site.via:
        piece = f"via {hop}" if not current and len(lines) == 1 else f"-> {hop}"
        if current and len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = f"    {piece}"
        else:
            current = f"{current} {piece}" if current else piece
    if current:
        lines.append(current)
    return lines


def _unresolved_table(unresolved: tuple[Unresolved, ...], scoped: bool, shortest: bool = False) -> Table:
    """The unresolved sites; `shortest`: each reason cut to its longest word (to measure the table)."""
    table = Table(title="Unresolved call sites")
    if scoped:
        table.add_column("Protocol", no_wrap=True)
    table.add_column("Location", no_wrap=True)
    table.add_column("Call", no_wrap=True)
    table.add_column("Why")
    for entry in unresolved:
        table.add_row(
            *([_scope(entry.scope)] if scoped else []),
            escape(str(entry.site.location)), _call(entry.site),
            escape(max(_why(entry).split(), key=len, default="") if shortest else _why(entry)),
        )
    return table


def _print_unresolved(unresolved: tuple[Unresolved, ...], scoped: bool, console: Console) -> None:
    console.print("[bold]Unresolved call sites[/]")
    for entry in unresolved:
        scope = _scope_label(entry.scope) if scoped else ""
        console.print()
        console.print(f"{escape(str(entry.site.location))}{scope}", soft_wrap=True)
        for line in _call_lines(entry.site, console.width - 2):
            console.print(f"  [dim]{escape(line)}[/]", soft_wrap=True)
        if _why(entry):
            console.print(Padding(escape(_why(entry)), (0, 0, 0, 2)))
    console.print()


def _why(entry: Unresolved) -> str:
    """Why a site is unresolved, after the pattern its type is known as, if any."""
    return (f"pattern `{entry.pattern}`: " if entry.pattern else "") + (entry.reason or "")


def _scope(scope: str | None) -> str:
    return escape(scope) if scope is not None else "[dim](shared)[/]"


def _scope_label(scope: str | None) -> str:
    return f"  [dim]protocol {escape(scope)}[/]" if scope is not None else "  [dim]shared code[/]"


def _status(status: Status) -> str:
    return f"[{_STATUS_STYLE[status]}]{status.value}[/]"


def _sites(sites: tuple[Site, ...]) -> str:
    return "\n".join(f"{escape(str(s.location))}\n  [dim]{_call(s)}[/]" for s in sites) or "-"


def _call(site: Site) -> str:
    via = f" via {' -> '.join(site.via)}" if site.via else ""
    return escape(f"{site.api} ({site.mechanism.value}){via}")
