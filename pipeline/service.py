"""Runs the pipeline: forward receiver, OTLP/HTTP receiver and the writer, in one process.

One asyncio loop serves both receivers (uvicorn runs the HTTP app inside it); the writer is a
thread because its work is waiting on Elasticsearch. SIGTERM stops accepting, fsyncs the buffer
and leaves unindexed records on disk for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from types import FrameType

import uvicorn
from prometheus_client import start_http_server

from instrumentation.logs import configure_logging
from instrumentation.settings import load_settings
from pipeline import metrics
from pipeline.buffer import DiskBuffer
from pipeline.forward_server import ForwardReceiver, HeartbeatProtocol
from pipeline.http_app import PipelineHttpApp
from pipeline.settings import PipelineSettings
from pipeline.writer import ElasticsearchWriter

log = logging.getLogger("pipeline")
GIL_SWITCH_SECONDS = 0.001


async def serve(settings: PipelineSettings) -> None:
    buffer = DiskBuffer(settings.buffer_dir, settings.segment_max_bytes, settings.buffer_max_bytes)
    metrics.BUFFER_MAX_BYTES.set(settings.buffer_max_bytes)
    metrics.BUFFER_BYTES.set(buffer.pending_bytes())
    start_http_server(settings.metrics_port, settings.host, registry=metrics.REGISTRY)
    writer = ElasticsearchWriter(settings, buffer)
    writer.start()
    receiver = ForwardReceiver(buffer, settings.max_frame_bytes)
    loop = asyncio.get_running_loop()
    forward = await asyncio.start_server(
        receiver.handle, settings.host, settings.forward_port, limit=settings.max_frame_bytes
    )
    heartbeat, _ = await loop.create_datagram_endpoint(
        HeartbeatProtocol, local_addr=(settings.host, settings.forward_port)
    )
    periodic_sync = asyncio.create_task(sync_periodically(buffer, settings.sync_interval_seconds))
    http = uvicorn.Server(
        uvicorn.Config(
            PipelineHttpApp(buffer, settings.max_frame_bytes),
            host=settings.host,
            port=settings.otlp_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    log.info(
        "pipeline listening: forward %s:%d, OTLP/HTTP and metrics %s:%d, buffer %s",
        settings.host,
        settings.forward_port,
        settings.host,
        settings.otlp_port,
        settings.buffer_dir,
        extra={"event": "pipeline.started"},
    )
    try:
        await http.serve()  # returns on SIGTERM/SIGINT
    finally:
        forward.close()
        heartbeat.close()
        periodic_sync.cancel()
        await buffer.make_durable(buffer.end())
        writer.stop()
        writer.join(timeout=10)
        buffer.close()
        log.info(
            "pipeline stopped; %d bytes left to index",
            buffer.pending_bytes(),
            extra={"event": "pipeline.stopped"},
        )


async def sync_periodically(buffer: DiskBuffer, interval: float) -> None:
    """Records sent without a chunk option are still fsynced within `interval` seconds."""
    while True:
        await asyncio.sleep(interval)
        await buffer.make_durable(buffer.end())


def keep_running_after_signal(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the stop signal after it shuts down; we still have cleanup to do."""


def main() -> None:
    # ECS JSON lines like every service's, on stdout only: shipping its own lines through
    # itself would loop (and lose them exactly when the pipeline is the thing failing).
    configure_logging("pipeline", load_settings().model_copy(update={"fluent_enabled": False}))
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, keep_running_after_signal)
    # While the event loop decodes records it holds the GIL; a bulk thread whose response came
    # back waits for it up to the switch interval (5 ms by default) at every hand-over, and
    # meanwhile Elasticsearch has a request slot idle. 1 ms keeps the writer's hand-overs short.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    asyncio.run(serve(PipelineSettings()))


if __name__ == "__main__":
    main()
