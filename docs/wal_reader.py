#!/usr/bin/env python3
"""Reads the pending events of a Bloodbank write-ahead log (format 1, see wal-format.md).

Usage: wal_reader.py <log directory>
Prints one line per pending event, oldest first: "<seq> <event id> <event type>".
Only the standard library; it takes no lock and changes nothing (a reader may run beside the
writer). Bloodbank's tests run it against logs written by Java.
"""
import json
import os
import sys

_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


PREFIX = b'{"crc32c":"'
MIDDLE = b'","record":'


def records(line):
    """The record of a checksummed line, or None when the line is torn or corrupt."""
    head = len(PREFIX) + 8 + len(MIDDLE)
    if not (line.startswith(PREFIX) and line[len(PREFIX) + 8:head] == MIDDLE and line.endswith(b"}")):
        return None
    body = line[head:-1]
    if int(line[len(PREFIX):len(PREFIX) + 8], 16) != crc32c(body):
        return None
    return json.loads(body)


def pending(directory):
    names = sorted(n for n in os.listdir(directory)
                   if n.endswith(".seg") and len(n) == 24 and n[:20].isdigit())
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            lines = f.read().split(b"\n")
        header = json.loads(lines[0])
        if header.get("bloodbank_wal") != 1 or header.get("first_seq") != int(name[:20]):
            raise ValueError(name + " is not a format 1 segment")
        events, done = {}, set()
        for raw in lines[1:-1]:  # the part after the last newline is torn, if anything
            record = records(raw)
            if record is None:
                continue
            if record["op"] == "event":
                events[record["seq"]] = record
            elif record["op"] == "done":
                done.add(record["seq"])
        for seq in sorted(events):
            if seq not in done:
                yield events[seq]


if __name__ == "__main__":
    for r in pending(sys.argv[1]):
        print(r["seq"], r["id"], r["event_type"])
