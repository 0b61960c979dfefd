#!/usr/bin/env python3
"""Where a test run's time went: each assembly's wall time (the trx run's start to finish) and test count, then the
N slowest tests by their trx duration. Used to keep the suite inside its time budget (docs/deployment.md, "In CI").
Usage: trx-durations.py [--top N] FILE.trx...
"""
import os
import sys
import xml.etree.ElementTree as ET
from datetime import datetime

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def seconds(duration):
    h, m, s = duration.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def moment(text):
    # 2026-12-04T18:18:53.1234567+00:00: Python wants at most 6 fraction digits.
    head, _, rest = text.partition(".")
    digits = "".join(c for c in rest if c.isdigit())
    zone = rest[len(digits):]
    return datetime.fromisoformat(f"{head}.{digits[:6] or '0'}{zone}")


def main(argv):
    top = 25
    if len(argv) >= 2 and argv[0] == "--top":
        top, argv = int(argv[1]), argv[2:]
    tests, assemblies = [], []
    for path in argv:
        root = ET.parse(path).getroot()
        times = root.find("t:Times", NS)
        results = root.findall(".//t:Results/t:UnitTestResult", NS)
        storage = {d.get("id"): os.path.basename(d.get("storage", "")) for d in root.findall(".//t:TestDefinitions/t:UnitTest", NS)}
        name = next(iter(storage.values()), os.path.basename(path))
        wall = (moment(times.get("finish")) - moment(times.get("start"))).total_seconds() if times is not None else 0.0
        total = sum(seconds(r.get("duration", "0:0:0")) for r in results)
        assemblies.append((wall, name, len(results), total))
        tests += [(seconds(r.get("duration", "0:0:0")), r.get("testName"), name) for r in results]
    print(f"{'wall s':>8} {'sum s':>8} {'tests':>6}  assembly")
    for wall, name, count, total in sorted(assemblies, reverse=True):
        print(f"{wall:8.1f} {total:8.1f} {count:6d}  {name}")
    print(f"\n{top} slowest tests:")
    for duration, test, assembly in sorted(tests, reverse=True)[:top]:
        print(f"{duration:8.1f}  {test}  [{assembly}]")


if __name__ == "__main__":
    main(sys.argv[1:])
