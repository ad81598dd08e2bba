#!/usr/bin/env python3
"""Holds N idle live usage streams (GET /events/{org_id}/) open, as N browsers would.

    streams_hold.py --url http://127.0.0.1:PORT --count 5000 --orgs orgs.txt [--status FILE]

orgs.txt: one "org_id bearer" per line; the streams are spread over them round-robin. Opens
the streams a few hundred at a time (what a listen backlog takes), counts how each answered
(200 with a first event, 503 too_many_streams, other statuses, connection failures), writes
one JSON line to --status (or stdout) once every stream was tried, then keeps the open ones
idle (reading heartbeats and events) until SIGTERM or SIGINT, and writes a last line with how
many were still open and how many events they received meanwhile. Used by bench/streams.sh.
"""
import argparse
import asyncio
import collections
import json
import signal
import sys
import time


async def hold(args, orgs, counts, open_streams, stop):
    host, port = args.url.split("//", 1)[1].rsplit(":", 1)
    port = int(port)
    gate = asyncio.Semaphore(args.parallel)

    async def one(i):
        org, bearer = orgs[i % len(orgs)]
        async with gate:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), args.timeout)
                writer.write(
                    (f"GET /events/{org}/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     f"Accept: text/event-stream\r\nAuthorization: Bearer {bearer}\r\n\r\n"
                     ).encode())
                await writer.drain()
                status = await asyncio.wait_for(reader.readline(), args.timeout)
                code = int(status.split()[1]) if status else 0
                if code != 200:
                    counts[str(code) if code else "closed"] += 1
                    writer.close()
                    return
                # Up to the first event: the stream is live once its current state arrived
                # (embedded: at once; nchan: the channel's stored message).
                while True:
                    line = await asyncio.wait_for(reader.readline(), args.timeout)
                    if not line:
                        counts["closed_before_event"] += 1
                        return
                    if line.startswith(b"data:"):
                        break
            except (OSError, asyncio.TimeoutError, ValueError, IndexError) as e:
                counts["failed:" + type(e).__name__] += 1
                return
        counts["200"] += 1
        open_streams.add(i)
        try:
            while not stop.is_set():
                data = await reader.read(65536)
                if not data:
                    break
                counts["events_later"] += data.count(b"event: usage")
        except OSError:
            pass
        open_streams.discard(i)
        writer.close()

    return [asyncio.create_task(one(i)) for i in range(args.count)]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--orgs", required=True)
    parser.add_argument("--status")
    parser.add_argument("--parallel", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    orgs = [tuple(line.split()) for line in open(args.orgs) if line.strip()]
    counts = collections.Counter()
    open_streams = set()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    out = open(args.status, "a") if args.status else sys.stdout
    started = time.monotonic()
    tasks = await hold(args, orgs, counts, open_streams, stop)
    # Every stream tried: opened (and waiting), refused or failed.
    while not stop.is_set():
        tried = sum(v for k, v in counts.items() if k != "events_later")
        if tried >= args.count:
            break
        await asyncio.sleep(0.05)
    tried_at = time.monotonic()
    print(json.dumps({"phase": "held", "open": len(open_streams),
                      "seconds_to_open": round(tried_at - started, 2),
                      "answers": {k: v for k, v in counts.items() if k != "events_later"}}),
          file=out, flush=True)
    await stop.wait()
    print(json.dumps({"phase": "end", "still_open": len(open_streams),
                      "events_received_while_held": counts["events_later"]}),
          file=out, flush=True)
    for t in tasks:
        t.cancel()


if __name__ == "__main__":
    asyncio.run(main())
