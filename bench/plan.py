"""What one load run is and what it reports: the contract between orchestrator and load.

Plans travel to the load process as a pickle file (our own temp file) and results come
back as one JSON line, so the load process needs no knowledge of the service's setup.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Plan:
    """One scenario's load: who to call, with which requests, how hard and how long.

    `requests` are already-serialized protobuf messages, so the client spends no CPU on
    protobuf during the run. `once` hands each request to exactly one call (in order) and
    stops a caller when none are left; otherwise every call picks one at random.
    """

    name: str
    target: str
    method: str
    requests: list[bytes]
    metadata: tuple[tuple[str, str], ...]
    concurrency: int
    duration: float
    warmup: float
    once: bool = False
    server_pid: int = 0
    # The orchestrator: its process tree (service, databases, this load) is "ours".
    bench_pid: int = 0
    # Total calls per second to pace the callers to; 0 sends as fast as answers come back.
    rate: float = 0.0
    timeout: float = 10.0
    channels: int = 1
    # Per request, when calls differ: its method (else `method`) and its metadata (else
    # `metadata`), e.g. a mix of RPCs, or each call as another user.
    methods: list[str] = field(default_factory=list)
    request_metadata: list[tuple[tuple[str, str], ...]] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.write_bytes(pickle.dumps(self))

    @staticmethod
    def load(path: Path) -> Plan:
        plan = pickle.loads(path.read_bytes())
        assert isinstance(plan, Plan)
        return plan


@dataclass
class Result:
    """What the measured window saw (warm-up calls are counted only as errors)."""

    name: str
    callers: int
    calls: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    # Calls answered OK, the warm-up's included (what a run's writes should have made).
    answered: int = 0
    error_samples: dict[str, str] = field(default_factory=dict)
    exhausted: bool = False
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    # Core-seconds: all processes busy, those of the bench's tree, and all cores' capacity.
    machine_cpu_s: float = 0.0
    bench_cpu_s: float = 0.0
    capacity_s: float = 0.0
    rate: float = 0.0
    hit_ratio: float | None = None
    # Throughput as a multiple of the same server's Health/Check floor, when that ran.
    floor_ratio: float | None = None

    @property
    def throughput(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    @property
    def busy(self) -> float:
        """Share of the machine's CPU in use during the window."""
        return self.machine_cpu_s / self.capacity_s if self.capacity_s else 0.0

    @property
    def backends_cpu_s(self) -> float:
        """CPU of the bench's tree outside the service and the client: PostgreSQL and Redis."""
        return max(0.0, self.bench_cpu_s - self.server_cpu_s - self.client_cpu_s)

    @property
    def foreign(self) -> float:
        """Share of the machine's CPU used by processes outside the bench (noise)."""
        if not self.capacity_s:
            return 0.0
        return max(0.0, self.machine_cpu_s - self.bench_cpu_s) / self.capacity_s

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> Result:
        return Result(**json.loads(text))
