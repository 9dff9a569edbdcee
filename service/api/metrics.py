"""`GET /metrics`: Prometheus text format, for admins (a bearer token of role admin).

Requests are counted and timed per route template (`/api/v1/teachers/{teacher_no}/transcript`,
never the raw path: a label per teacher would grow without end); the committer's queue and groups,
the follower's lag, the connection pools and the store's errors are read when scraped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.actor import Actor
from domain.errors import Forbidden
from domain.vocabulary import Role
from service.api.availability import monitor_of
from service.api.deps import get_actor

router = APIRouter(tags=["operations"])

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


class Metrics:
    """One registry per application (tests build many apps in one process)."""

    def __init__(self, app: Any) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("trainrec_http_requests", "HTTP requests answered, by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("trainrec_http_request_duration_seconds", "Time to answer, by route",
                                 ["method", "route"], buckets=BUCKETS, registry=self.registry)
        self.in_flight = Gauge("trainrec_http_requests_in_flight", "Requests being answered",
                               registry=self.registry)
        self.registry.register(_StateCollector(app))


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestMetrics:
    """Count and time every HTTP request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics: Metrics | None = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
        if scope["type"] != "http" or metrics is None:
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        metrics.in_flight.inc()
        try:
            await self.app(scope, receive, recording)
        finally:
            metrics.in_flight.dec()
            route = _route_of(scope)
            metrics.requests.labels(scope["method"], route, str(status)).inc()
            metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - started)


class _StateCollector(Collector):
    """What the process knows of its committer, follower, pools and store, read at each scrape."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        state = self.app.state
        yield from _committer(state.trainrec.group_committer)
        yield from _follower(getattr(state, "follower", None))
        yield from _pools(state.trainrec)
        monitor = monitor_of(self.app)
        if monitor is not None:
            status = monitor.status()
            yield GaugeMetricFamily("trainrec_store_reachable", "1 when the store answers its probe",
                                    value=int(status.reachable))
            yield CounterMetricFamily("trainrec_store_errors", "Probes and requests that found the store "
                                      "not answering", value=status.failures)
            yield CounterMetricFamily("trainrec_store_outages", "Times the store went away", value=status.outages)


def _committer(committer: Any) -> Iterator[Metric]:
    if committer is None:
        return
    stats = committer.stats
    yield GaugeMetricFamily("trainrec_committer_queue_depth", "Commands waiting for the committer",
                            value=committer.queue_depth())
    yield CounterMetricFamily("trainrec_committer_transactions", "Group transactions committed",
                              value=stats.transactions)
    yield CounterMetricFamily("trainrec_committer_commands", "Commands run by the committer", value=stats.commands)
    yield GaugeMetricFamily("trainrec_committer_largest_group", "Most commands in one group so far",
                            value=stats.largest_group)
    yield CounterMetricFamily("trainrec_committer_failed_group_saves", "Group saves that failed on a conflict",
                              value=stats.failed_group_saves)
    yield CounterMetricFamily("trainrec_committer_carried", "Commands a group's bound left for the next group",
                              value=stats.carried)
    cumulative, buckets = 0, []
    for bound, count in sorted(stats.group_sizes.items()):
        cumulative += count
        buckets.append(("+Inf" if bound == float("inf") else str(int(bound)), cumulative))
    yield HistogramMetricFamily("trainrec_committer_group_commands", "Commands per committer group",
                                buckets=buckets, sum_value=stats.commands)


def _follower(follower: Any) -> Iterator[Metric]:
    if follower is None:
        return
    status = follower.status()
    yield GaugeMetricFamily("trainrec_follower_alive", "1 while the read-model follower runs", value=int(status.alive))
    yield GaugeMetricFamily("trainrec_read_model_position", "Last event applied to the read model",
                            value=status.position)
    if status.head is not None:
        yield GaugeMetricFamily("trainrec_log_head", "Last event recorded, as the follower last saw it",
                                value=status.head)
    if status.lag is not None:
        yield GaugeMetricFamily("trainrec_read_model_lag_events", "Events recorded but not yet applied",
                                value=status.lag)
    yield CounterMetricFamily("trainrec_follower_failures", "Errors the follower met and recovered from",
                              value=status.failures)
    yield GaugeMetricFamily("trainrec_follower_events_per_second", "Events applied per second, recently",
                            value=status.events_per_second)


def _pools(trainrec: Any) -> Iterator[Metric]:
    pools = trainrec.connection_pools()
    if not pools:
        return
    size = GaugeMetricFamily("trainrec_pool_connections", "Connections open in the pool", labels=["pool"])
    idle = GaugeMetricFamily("trainrec_pool_connections_idle", "Connections idle in the pool", labels=["pool"])
    waiting = GaugeMetricFamily("trainrec_pool_requests_waiting", "Requests waiting for a connection",
                                labels=["pool"])
    for name, pool in pools.items():
        stats = pool.get_stats()
        size.add_metric([name], stats.get("pool_size", 0))
        idle.add_metric([name], stats.get("pool_available", 0))
        waiting.add_metric([name], stats.get("requests_waiting", 0))
    yield size
    yield idle
    yield waiting


async def admin_only(actor: Actor = Depends(get_actor)) -> Actor:  # noqa: B008 - FastAPI's way
    if actor.role is not Role.ADMIN:
        raise Forbidden("forbidden_scope", "metrics are for admins")
    return actor


@router.get("/metrics", dependencies=[Depends(admin_only)])
def metrics(request: Request) -> Response:
    found: Metrics = request.app.state.metrics
    return Response(generate_latest(found.registry), media_type=CONTENT_TYPE_LATEST)
