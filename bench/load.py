"""The load generator: `python -m bench.load PLAN_FILE` prints one JSON Result line.

It runs in its own process so its CPU is not charged to the server. N coroutines share
one grpc.aio channel (or a few) and loop until the deadline, sending pre-serialized
requests and timing each call with perf_counter. Only calls that complete inside the
measured window (after the warm-up) count towards throughput and latency; errors count
whenever they happen.
"""

from __future__ import annotations

import asyncio
import gc
import math
import random
import sys
import time
from array import array
from collections import Counter
from pathlib import Path

import grpc
import psutil

from bench import cpu
from bench.plan import Plan, Result

# Distinct TCP connections per channel; otherwise channels with equal arguments share one.
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]


class _Window:
    """CPU counters (server with its workers, this client, the bench's tree, the machine)
    over the window."""

    def __init__(self, server_pid: int, bench_pid: int) -> None:
        self._server = psutil.Process(server_pid) if server_pid else None
        self._bench = psutil.Process(bench_pid) if bench_pid else None
        self.server = self.client = self.machine = self.bench = self.capacity = 0.0
        self._start: tuple[float, ...] = ()

    def _sample(self) -> tuple[float, ...]:
        server = cpu.tree_cpu(self._server) if self._server is not None else 0.0
        tree = cpu.tree_cpu(self._bench) if self._bench is not None else 0.0
        busy, total = cpu.machine_cpu()
        return server, time.process_time(), busy, tree, total

    def open(self) -> None:
        self._start = self._sample()

    def close(self) -> None:
        deltas = [b - a for a, b in zip(self._start, self._sample(), strict=True)]
        self.server, self.client, self.machine, self.bench, self.capacity = deltas


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list, in the list's unit."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# Requests go out as the bytes given, responses come back as bytes.
Stub = grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]


async def run(plan: Plan) -> Result:
    channels = [
        grpc.aio.insecure_channel(plan.target, options=CHANNEL_OPTIONS)
        for _ in range(plan.channels)
    ]
    try:
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), 10)
        # No serializers: requests go out as the bytes given, responses come back as bytes.
        methods = set(plan.methods) or {plan.method}
        stubs: list[dict[str, Stub]] = [
            {m: channel.unary_unary(m) for m in methods} for channel in channels
        ]
        return await _drive(plan, stubs)
    finally:
        for channel in channels:
            await channel.close()


async def _drive(plan: Plan, stubs: list[dict[str, Stub]]) -> Result:
    latencies = array("d")
    errors: Counter[str] = Counter()
    answered = 0
    samples: dict[str, str] = {}
    requests = plan.requests
    pending = iter(range(len(requests)))
    exhausted = False
    window = _Window(plan.server_pid, plan.bench_pid)
    gc.collect()
    gc.freeze()

    begin = time.perf_counter()
    measure_from = begin + plan.warmup
    end = measure_from + plan.duration

    async def caller(index: int) -> None:
        nonlocal exhausted, answered
        stub = stubs[index % len(stubs)]
        pick = random.Random(index).randrange
        # Paced: this caller's sends are `interval` apart, callers evenly staggered.
        interval = plan.concurrency / plan.rate if plan.rate else 0.0
        next_send = begin + interval * index / plan.concurrency
        while True:
            if interval:
                delay = next_send - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_send += interval
            if plan.once:
                n = next(pending, None)
                if n is None:
                    exhausted = True
                    return
            else:
                n = pick(len(requests))
            method = plan.methods[n] if plan.methods else plan.method
            metadata = plan.request_metadata[n] if plan.request_metadata else plan.metadata
            started = time.perf_counter()
            if started >= end:
                return
            try:
                await stub[method](requests[n], metadata=metadata, timeout=plan.timeout)
            except grpc.aio.AioRpcError as exc:
                code = exc.code().name
                errors[code] += 1
                samples.setdefault(code, exc.details() or "")
                continue
            finished = time.perf_counter()
            answered += 1
            if measure_from <= finished <= end:
                latencies.append(finished - started)

    async def clock() -> None:
        # Sampled in a thread: walking the process tree must not stall the callers.
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        await asyncio.to_thread(window.open)
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        await asyncio.to_thread(window.close)

    await asyncio.gather(clock(), *(caller(i) for i in range(plan.concurrency)))
    ordered = sorted(latencies)
    ms = [x * 1000.0 for x in (_percentile(ordered, q) for q in (0.5, 0.9, 0.99, 1.0))]
    return Result(
        name=plan.name,
        callers=plan.concurrency,
        calls=len(ordered),
        seconds=plan.duration,
        p50_ms=ms[0],
        p90_ms=ms[1],
        p99_ms=ms[2],
        max_ms=ms[3],
        errors=sum(errors.values()),
        answered=answered,
        error_samples=samples,
        exhausted=exhausted,
        server_cpu_s=window.server,
        client_cpu_s=window.client,
        machine_cpu_s=window.machine,
        bench_cpu_s=window.bench,
        capacity_s=window.capacity,
        rate=plan.rate,
    )


def main() -> None:
    plan = Plan.load(Path(sys.argv[1]))
    result = asyncio.run(run(plan))
    print(result.to_json(), flush=True)


if __name__ == "__main__":
    main()
