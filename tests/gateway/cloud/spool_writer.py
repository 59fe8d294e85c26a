"""A process that appends cycles to a spool as fast as it can, printing each acknowledged seq.

Run by test_spool.py, which SIGKILLs it mid-write.
"""

from __future__ import annotations

import json
import sys
import time

from meter_gateway.spool import Spool


def main() -> None:
    spool = Spool(sys.argv[1], max_cycles=1_000_000, max_bytes=1024**3)
    while True:
        now_ms = int(time.time() * 1000)
        seq = spool.append(
            now_ms, 2, lambda seq, _stats: json.dumps({"s": seq, "pad": "x" * 500}).encode()
        )
        # Printed only after append returned: each line is an acknowledgement.
        sys.stdout.write(f"{seq}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
