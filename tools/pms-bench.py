#!/usr/bin/env python3
"""Writes N Clio-style communications (clio.json, the API v4 envelope) and the same records as native JSON lines
(native.jsonl), for timing `ledger import --from clio` against `ledger import` (docs/IMPORT.md, "Import rate").
Usage: tools/pms-bench.py N OUTDIR"""
import json, os, sys

def main():
    count, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    clio, native = [], []
    for i in range(count):
        inbound = i % 3 == 0
        staff = {"id": 300 + i % 7, "type": "User", "name": f"Staff Member {i % 7}"}
        contact = {"id": 9000 + i % 997, "type": "Contact", "name": f"Client Contact {i % 997}"}
        when = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00-05:00"
        body = f"Discussed item {i} of the matter: next steps, costs and the timetable. " * 3
        clio.append({"id": 50_000_000 + i, "type": "EmailCommunication" if i % 2 else "PhoneCommunication",
                     "subject": f"Update {i}", "body": body, "date": when, "received_at": None,
                     "matter": {"id": i % 500, "display_number": f"M-{i % 500:05d}"},
                     "senders": [contact if inbound else staff], "receivers": [staff if inbound else contact]})
        native.append({"sourceSystem": "clio", "sourceId": str(50_000_000 + i), "matter": f"M-{i % 500:05d}",
                       "author": staff["name"], "channel": "phone" if i % 2 == 0 else "email",
                       "direction": "inbound" if inbound else "outbound", "occurredAt": when,
                       "subject": f"Update {i}", "summary": body,
                       "recipients": [(staff if inbound else contact)["name"]]})
    with open(os.path.join(out, "clio.json"), "w") as f:
        json.dump({"data": clio}, f, ensure_ascii=False, indent=1)
    with open(os.path.join(out, "native.jsonl"), "w") as f:
        for record in native:
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

main()
