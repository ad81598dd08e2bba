#!/usr/bin/env python3
"""Reads one .eml with Python's own e-mail parser (an independent reader of what sima sent) and
prints JSON: the headers decoded (RFC 2047), the raw header lines, the transfer encoding and the
body decoded to text, exactly (CRLF kept).

  read_eml.py FILE
"""
import email
import email.policy
import json
import sys


def main():
    raw = open(sys.argv[1], "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    payload = msg.get_payload(decode=True)
    out = {
        "from": str(msg["From"]),
        "to": str(msg["To"]),
        "subject": str(msg["Subject"]),
        "message_id": str(msg["Message-ID"]),
        "date": str(msg["Date"]),
        "mime_version": str(msg["MIME-Version"]),
        "content_type": msg.get_content_type(),
        "charset": msg.get_content_charset(),
        "transfer_encoding": str(msg["Content-Transfer-Encoding"]),
        "body": payload.decode(msg.get_content_charset() or "ascii"),
        "longest_line": max(len(line) for line in raw.split(b"\r\n")),
        "defects": [type(d).__name__ for d in msg.defects],
    }
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
