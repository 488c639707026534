"""The embedded demo: the simulated supplier moves on, etawatch notices and tells customers.

Each cycle advances the portal's scenario clock, scrapes it with the real robot, carries what
changed through the ledger, the notifier and the views, shows it, and checks it against the
portal's ground truth: every real change of an ordered item reached each affected order once,
and nothing else was sent. One cycle first meets a portal fault: that run fails and is seen to
change nothing.
"""

import asyncio
import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import SecretStr

from etawatch.allinone.embedded import EmbeddedConfig, EmbeddedSystem
from etawatch.allinone.narrate import Narrator
from etawatch.allinone.orders import plan_orders
from etawatch.allinone.state import DemoState
from etawatch.allinone.verify import OrderBook, Verdict, judge
from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope
from etawatch.contracts.messages import CustomerNotified, ETAChanged, OrderPlaced
from etawatch.demo.portal import PortalConfig, PortalServer
from etawatch.query_api.application.auth import create_key
from etawatch.query_api.application.commands import place_order
from etawatch.query_api.domain.keys import Scope

PORTAL_USER = "shop"
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path = Path("var")
    cycles: int | None = None
    exit_check: bool = False
    items: int = 300
    seed: int = 7
    page_size: int = 50
    days_per_cycle: int = 7
    interval_seconds: float = 10.0
    fault_cycle: int = 3
    orders: int = 30
    api_port: int = 8000
    serve_api: bool = True
    smtp_url: SecretStr | None = None


class Demo:
    def __init__(self, options: DemoOptions, narrator: Narrator | None = None) -> None:
        self.options = options
        self.narrator = narrator or Narrator()
        self.state_path = options.data_dir / "demo-state.json"
        options.data_dir.mkdir(parents=True, exist_ok=True)
        self.state = DemoState.load(self.state_path, items=options.items, seed=options.seed)
        self.verdict = Verdict()
        self.problems: list[str] = []

    async def run(self) -> bool:
        """Run the cycles; True when every checked cycle matched the ground truth."""
        password = SecretStr(secrets.token_urlsafe(12))
        portal_config = PortalConfig(
            items=self.options.items,
            seed=self.options.seed,
            page_size=self.options.page_size,
            username=PORTAL_USER,
            password=password,
            admin_token=SecretStr(secrets.token_urlsafe(16)),
        )
        with PortalServer(portal_config) as portal:
            if self.state.day:
                portal.scenario.advance(days=self.state.day)  # the same seed: the same state
            system = EmbeddedSystem(
                EmbeddedConfig(
                    data_dir=self.options.data_dir,
                    portal_url=portal.url,
                    portal_username=PORTAL_USER,
                    portal_password=password,
                    api_port=self.options.api_port,
                    smtp_url=self.options.smtp_url,
                )
            )
            await system.start(serve_api=self.options.serve_api)
            try:
                return await self._cycles(portal, system)
            finally:
                await system.stop()

    async def _cycles(self, portal: PortalServer, system: EmbeddedSystem) -> bool:
        orders = await self._place_orders(portal, system)
        self._welcome(portal, system, orders)
        book = OrderBook.of((o.shop_order_id, [line.sku for line in o.lines]) for o in orders)
        number = 0
        while self.options.cycles is None or number < self.options.cycles:
            number += 1
            await self._cycle(number, portal, system, book)
            if self.options.cycles is None or number < self.options.cycles:
                await asyncio.sleep(self.options.interval_seconds)
        return self.verdict.ok and not self.problems

    async def _place_orders(
        self, portal: PortalServer, system: EmbeddedSystem
    ) -> list[OrderPlaced]:
        horizon = self.options.days_per_cycle * max(self.options.cycles or 10, 2)
        orders = plan_orders(
            system.scraper.profile.supplier,
            self.options.items,
            self.options.seed,
            portal.scenario.today - dt.timedelta(days=self.state.day),
            self.state.day + horizon,
            orders=self.options.orders,
        )
        for order in orders:  # the same command again is a no-op in the ledger
            await place_order(system.bus, order)
        await system.settle()
        if self.state.api_key is None and system.query is not None:
            self.state.api_key = create_key(system.query.keys, {Scope.READ, Scope.WRITE}, "demo")
            self.state.save(self.state_path)
        return orders

    async def _cycle(
        self, number: int, portal: PortalServer, system: EmbeddedSystem, book: OrderBook
    ) -> None:
        first_look = self.state.last_complete_scrape is None
        if not first_look:
            portal.scenario.advance(days=self.options.days_per_cycle)
            self.state.day += self.options.days_per_cycle
        since = self.state.last_complete_scrape
        made = [] if first_look else portal.scenario.net_changes(since)
        all_made = (
            [] if first_look else [c for c in portal.ground_truth() if since and c.at > since]
        )
        self.narrator.cycle(
            self.state.cycles + 1,
            self.state.day,
            portal.scenario.today.isoformat(),
            len(all_made),
            sum(1 for c in made if c.is_real),
        )
        if number == self.options.fault_cycle:
            await self._failed_run(portal, system)
        mark = len(system.watched.ledger), len(system.watched.notifications)
        outcome = await system.scrape()
        self.narrator.run(outcome)
        deliveries = await system.settle()
        ledger_events = system.watched.ledger[mark[0] :]
        self.narrator.changes(ledger_events)
        self.narrator.emails(deliveries, str(system.notifier_settings.outbox_dir.resolve()))
        if not outcome.ok:
            self.problems.append(f"cycle {number}: the scrape failed ({outcome.reason})")
        else:
            real = [] if first_look else [c.sku for c in made if c.is_real]
            verdict = judge(
                real,
                book,
                _of(system.watched.notifications[mark[1] :], CustomerNotified),
                _changes(system.watched.ledger),
            )
            self.verdict.add(verdict)
            self._say(verdict, first_look)
            self.state.last_complete_scrape = portal.scenario.today
        self.state.cycles += 1
        self.state.save(self.state_path)

    async def _failed_run(self, portal: PortalServer, system: EmbeddedSystem) -> None:
        portal.faults.set(maintenance=True)
        self.narrator.fault("a maintenance page instead of the table")
        mark = len(system.watched.ledger), len(system.watched.notifications)
        outcome = await system.scrape()
        self.narrator.run(outcome)
        await system.settle()
        portal.faults.clear()
        changed = _of(system.watched.ledger[mark[0] :], ETAChanged)
        told = system.watched.notifications[mark[1] :]
        ok = not outcome.ok and not changed and not told
        if not ok:
            self.problems.append(
                f"the run against the maintenance page ended as {outcome.reason} with "
                f"{len(changed)} changes and {len(told)} emails"
            )
        self.narrator.verdict(
            ok,
            "The failed run changed nothing and told nobody."
            if ok
            else f"The failed run produced {len(changed)} changes and {len(told)} emails!",
        )
        self.narrator.fault("its table again")

    def _say(self, verdict: Verdict, first_look: bool) -> None:
        if first_look:
            ok = not verdict.told
            text = (
                "First look: every item is a baseline, nobody is told."
                if ok
                else f"First look told {sum(verdict.told.values())} order lines!"
            )
            self.narrator.verdict(ok, text)
            return
        expected = sum(verdict.expected.values())
        if verdict.ok:
            self.narrator.verdict(
                True,
                f"Checked against the supplier's own record: all {expected} changed order lines "
                f"were told, in {verdict.emails} emails; nothing else was sent.",
            )
        else:
            self.narrator.verdict(
                False,
                f"Mismatch with the supplier's record: missing {dict(verdict.missing)}, "
                f"unexpected {dict(verdict.unexpected)}",
            )

    def _welcome(
        self, portal: PortalServer, system: EmbeddedSystem, orders: Sequence[OrderPlaced]
    ) -> None:
        api = f"http://{system.config.api_host}:{system.config.api_port}"
        lines = [
            (
                "Supplier portal",
                f"{portal.url}  (user {PORTAL_USER}, password "
                f"{system.config.portal_password.get_secret_value()})",
            ),
            ("Query API", f"{api}/docs" if self.options.serve_api else "(not served)"),
            ("API key", self.state.api_key or "-"),
            (
                "Try",
                f"curl -H 'Authorization: Bearer <key>' {api}/v1/orders/{orders[0].shop_order_id}",
            ),
            ("Emails", str(system.notifier_settings.outbox_dir.resolve())),
            ("Data", str(self.options.data_dir.resolve())),
            (
                "Orders",
                f"{len(orders)} orders of {len({ln.sku for o in orders for ln in o.lines})} items",
            ),
        ]
        if self.state.cycles:
            lines.append(
                ("Resumed", f"after {self.state.cycles} cycles (supplier's day {self.state.day})")
            )
        self.narrator.welcome(lines)


def _of(events: Sequence[Envelope[Message]], kind: type[M]) -> list[M]:
    return [e.data for e in events if isinstance(e.data, kind)]


def _changes(events: Sequence[Envelope[Message]]) -> dict[str, ETAChanged]:
    return {e.id: e.data for e in events if isinstance(e.data, ETAChanged)}
