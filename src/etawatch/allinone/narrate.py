"""What the demo shows on the terminal, in words a shop owner understands."""

from collections.abc import Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope
from etawatch.contracts.eta import ETA
from etawatch.contracts.messages import ETAChanged, ItemMissing, ScrapeHealthDegraded
from etawatch.notifier.application.delivery import Delivery
from etawatch.scraper.application.outcome import RunOutcome

AVAILABILITY_WORDS = {
    "in_stock": "in stock",
    "pre_order": "pre-order",
    "delayed": "delayed",
    "sold_out": "sold out",
    "discontinued": "discontinued",
    "unknown": "unknown",
}


def _eta(eta: ETA | None) -> str:
    if eta is None:
        return "-"
    return eta.raw or "(no date)"


class Narrator:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def welcome(self, lines: Sequence[tuple[str, str]]) -> None:
        table = Table.grid(padding=(0, 2))
        for label, value in lines:
            table.add_row(f"[bold]{label}[/bold]", value)
        self.console.print(Panel(table, title="etawatch demo", border_style="cyan"))

    def cycle(self, number: int, day: int, date: str, made: int, real: int) -> None:
        self.console.rule(f"[bold]Cycle {number}[/bold] · the supplier's day {day} ({date})")
        if made:
            self.console.print(
                f"The supplier's portal changed {made} things since the last look: {real} real "
                f"changes of availability or date, {made - real} only re-worded or new/gone rows."
            )

    def fault(self, what: str) -> None:
        self.console.print(f"[yellow]The supplier's portal now shows {what}.[/yellow]")

    def run(self, outcome: RunOutcome) -> None:
        seconds = f"{outcome.duration_seconds:.1f} s"
        if outcome.ok and outcome.report is not None:
            report = outcome.report
            self.console.print(
                f"[green]✓[/green] Read the supplier's table: {report.items_seen} items in "
                f"{seconds} ({report.unknown_availability} unknown availability words, "
                f"{report.unreadable_eta} unreadable dates)."
            )
        else:
            reason = outcome.reason.value if outcome.reason else "unknown"
            self.console.print(
                f"[red]✗[/red] The scrape failed ({reason}: {outcome.message}) after {seconds}. "
                "Nothing was compared, so nothing changed and nobody is told."
            )

    def changes(self, events: Sequence[Envelope[Message]]) -> None:
        changed = [e.data for e in events if isinstance(e.data, ETAChanged)]
        for other in events:
            if isinstance(other.data, ItemMissing):
                self.console.print(
                    f"[dim]Item {other.data.sku} is gone from the supplier's table "
                    f"({other.data.complete_runs_without} complete runs); no email for that.[/dim]"
                )
            elif isinstance(other.data, ScrapeHealthDegraded):
                self.console.print(
                    f"[red]Operator alert: {other.data.consecutive_failures} failed runs in a "
                    f"row ({other.data.last_reason.value}).[/red]"
                )
        if not changed:
            self.console.print("No ordered item changed.")
            return
        table = Table(title=f"{len(changed)} changes touching ordered items", title_justify="left")
        for column in ("order", "item", "availability", "expected delivery", "change"):
            table.add_column(column)
        for change in changed:
            before = AVAILABILITY_WORDS.get(str(change.previous_availability), "-")
            after = AVAILABILITY_WORDS[change.new_availability.value]
            table.add_row(
                change.shop_order_id,
                f"{change.item_name} [dim]({change.sku})[/dim]",
                after if before == after else f"{before} → {after}",
                f"{_eta(change.previous_eta)} → {_eta(change.new_eta)}",
                change.change_kind.value.replace("_", " "),
            )
        self.console.print(table)

    def emails(self, deliveries: Sequence[Delivery], where: str) -> None:
        for delivery in deliveries:
            mark = {"sent": "[green]✉[/green]", "failed": "[red]✗[/red]", "retry": "…"}
            self.console.print(
                f"{mark[delivery.outcome]} {delivery.outcome} to {delivery.recipient}: "
                f"“{delivery.subject}”"
            )
        if deliveries:
            self.console.print(f"[dim]The emails are in {where}[/dim]")

    def verdict(self, ok: bool, text: str) -> None:
        style = "green" if ok else "red"
        self.console.print(f"[{style}]{text}[/{style}]")
