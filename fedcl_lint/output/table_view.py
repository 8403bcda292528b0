"""The protocol table for a terminal, drawn with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fedcl_lint.analysis.protocol import Protocol, Site
from fedcl_lint.analysis.table import Status
from fedcl_lint.output.text import coverage_line
from fedcl_lint.refine.result import Analysis

_PIPE_WIDTH = 160
_STATUS_STYLE = {Status.OK: "green", Status.MISMATCH: "bold red", Status.UNHANDLED: "red", Status.UNUSED: "yellow"}


def print_table(analysis: Analysis, console: Console) -> None:
    if not console.is_terminal:
        console.width = max(console.width, _PIPE_WIDTH)  # a file or pipe has room; never cut paths
    protocol = Protocol.from_table(analysis.table, analysis.pack)
    scoped = bool(protocol.scopes)  # with protocol scopes, a first column names each row's
    table = Table(title="Message types", show_lines=True)
    if scoped:
        table.add_column("Protocol", no_wrap=True)
    table.add_column("Message type", style="bold", overflow="fold")
    table.add_column("Mechanism(s)", no_wrap=True)
    table.add_column("Senders", overflow="fold")
    table.add_column("Handlers", overflow="fold")
    table.add_column("Status", no_wrap=True)
    for message in protocol.messages:
        table.add_row(
            *([_scope(message.scope)] if scoped else []),
            escape(str(message.message_type)),
            ", ".join(m.value for m in message.mechanisms),
            _sites(message.sends),
            _sites(message.handles),
            f"[{_STATUS_STYLE[message.status]}]{message.status.value}[/]",
        )
    console.print(table)
    if protocol.unresolved:
        unresolved = Table(title="Unresolved call sites")
        if scoped:
            unresolved.add_column("Protocol", no_wrap=True)
        unresolved.add_column("Location")
        unresolved.add_column("Call")
        unresolved.add_column("Why")
        for entry in protocol.unresolved:
            unresolved.add_row(
                *([_scope(entry.scope)] if scoped else []),
                escape(str(entry.site.location)), _call(entry.site), escape(entry.reason or ""),
            )
        console.print(unresolved)
    console.print(coverage_line(analysis.result), highlight=False)


def _scope(scope: str | None) -> str:
    return escape(scope) if scope is not None else "[dim](shared)[/]"


def _sites(sites: tuple[Site, ...]) -> str:
    return "\n".join(f"{escape(str(s.location))}\n  [dim]{_call(s)}[/]" for s in sites) or "-"


def _call(site: Site) -> str:
    via = f" via {' -> '.join(site.via)}" if site.via else ""
    return f"{site.api} ({site.mechanism.value}){via}"
