#!/usr/bin/env python3
"""TCP echo backend for the idle-session benchmark: echoes whatever it reads.

Usage: echo_server.py HOST PORT
"""
import asyncio
import sys


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    server = await asyncio.start_server(handle, host, port, backlog=4096, reuse_address=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
