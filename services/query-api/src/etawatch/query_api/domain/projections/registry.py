"""Every projection by name."""

from etawatch.query_api.domain.projections import Projection
from etawatch.query_api.domain.projections.catalog import CatalogProjection
from etawatch.query_api.domain.projections.orders import OrdersProjection
from etawatch.query_api.domain.projections.runs import RunsProjection


def all_projections() -> dict[str, Projection]:
    projections: list[Projection] = [CatalogProjection(), OrdersProjection(), RunsProjection()]
    return {p.name: p for p in projections}
