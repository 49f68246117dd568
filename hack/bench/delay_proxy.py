# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback TCP proxy that delays every chunk by a fixed time each way: a 40 ms round trip for the bench.

Each direction keeps its order: a chunk read at t is written at t + delay, and later chunks queue behind it
(latency, not a bandwidth limit). The TCP connect itself is not delayed, so a real link of the same round trip
would add one more round trip per connection. Runs in a thread of the bench; stop() ends it.
"""

import asyncio
import threading
import time

CHUNK = 65536


class DelayProxy:
    def __init__(self, target_host, target_port, delay=0.020, host="127.0.0.1"):
        if host not in ("127.0.0.1", "::1", "localhost") or target_host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the delay proxy works on loopback only")
        self.target = (target_host, target_port)
        self.delay = delay
        self.host = host
        self.port = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the delay proxy did not start")
        return self

    def stop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self):
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._connection, self.host, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _connection(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer),
                             return_exceptions=True)
        for writer in (client_writer, server_writer):
            writer.close()

    async def _pipe(self, reader, writer):
        """Copies reader to writer, each chunk delivered `delay` after it arrived, in order."""
        queue = asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                pause = due - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                if data is None:
                    break
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        delivery = asyncio.ensure_future(deliver())
        try:
            while True:
                data = await reader.read(CHUNK)
                queue.put_nowait((time.monotonic() + self.delay, data or None))
                if not data:
                    break
            await delivery
        except (ConnectionError, OSError):
            delivery.cancel()
