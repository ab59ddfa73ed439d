"""A full buffer holds senders back: no forward ack, OTLP 503; acks resume once indexed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import msgpack
import pytest

from pipeline.buffer import DiskBuffer
from pipeline.forward_client import packed_forward
from pipeline.forward_server import ForwardReceiver
from pipeline.http_app import PipelineHttpApp

DAY_INDEX = "logs-a-2026.01.01"


def full_buffer(directory: Path) -> DiskBuffer:
    buffer = DiskBuffer(directory, 1 << 20, max_bytes=1000)
    buffer.append([(DAY_INDEX, {"pad": "x" * 2000})])  # over the bound, as if ES were down
    return buffer


def catch_up(buffer: DiskBuffer) -> None:
    """What the writer does once Elasticsearch confirmed everything."""
    while (batch := buffer.next_batch(1 << 20, 1000, 0)) is not None:
        buffer.commit(batch)


def test_forward_chunk_is_acked_only_after_the_buffer_has_room(tmp_path: Path) -> None:
    async def scenario() -> object:
        buffer = full_buffer(tmp_path)
        server = await asyncio.start_server(ForwardReceiver(buffer, 1 << 20).handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(packed_forward("t", [{"n": 1}], "chunk-1"))
        await writer.drain()
        with pytest.raises(TimeoutError):  # held back: no ack while the buffer is full
            await asyncio.wait_for(reader.read(100), 1.0)
        catch_up(buffer)
        answer = msgpack.unpackb(await asyncio.wait_for(reader.read(100), 10))
        writer.close()
        server.close()
        return answer

    assert asyncio.run(scenario()) == {"ack": "chunk-1"}


def test_otlp_answers_503_with_retry_after_while_the_buffer_is_full(tmp_path: Path) -> None:
    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        buffer = full_buffer(tmp_path)
        transport = httpx.ASGITransport(app=PipelineHttpApp(buffer, 1 << 20))
        async with httpx.AsyncClient(transport=transport, base_url="http://pipeline") as client:
            headers = {"Content-Type": "application/json"}
            full = await client.post("/v1/traces", content=b'{"resourceSpans":[]}', headers=headers)
            catch_up(buffer)
            room = await client.post("/v1/traces", content=b'{"resourceSpans":[]}', headers=headers)
        return full, room

    full, room = asyncio.run(scenario())
    assert full.status_code == 503
    assert full.headers["retry-after"] == "2"
    assert "buffer is full" in full.text
    assert room.status_code == 200
