#!/usr/bin/env python3
"""Prints every failed test of the given .trx files by name, with the first lines of its error message.

scripts/test.sh calls it just before its closing "tests: N passed, M failed" line so that the tail of a CI log
names what failed (the console logger's failure lines are thousands of lines further up). When a test host
crashed, the trx counts a failure that has no failed UnitTestResult; the run's own messages (RunInfos) are printed
instead so that the crash is named too. Exits 0 whatever it finds: counting is test.sh's job.
Usage: trx-failures.py [--lines N] FILE.trx...
"""
import os
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def first_lines(text, n):
    lines = [line.rstrip() for line in (text or "").strip().splitlines() if line.strip()]
    more = len(lines) - n
    return lines[:n] + ([f"… ({more} more lines)"] if more > 0 else [])


def report(path, n):
    name = os.path.basename(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        print(f"FAILED (unreadable trx) {name}: {e}")
        return
    failed = root.findall(".//t:Results/t:UnitTestResult[@outcome='Failed']", NS)
    for result in failed:
        print(f"FAILED {result.get('testName')}  [{name}, {result.get('duration', '?')}]")
        message = result.find("t:Output/t:ErrorInfo/t:Message", NS)
        for line in first_lines(message.text if message is not None else "", n):
            print(f"    {line}")
    counters = root.find(".//t:ResultSummary/t:Counters", NS)
    counted = int(counters.get("failed", "0")) if counters is not None else 0
    if counted > len(failed):
        print(f"FAILED {counted - len(failed)} without a test result in {name} (test host crash?):")
        for info in root.findall(".//t:ResultSummary/t:RunInfos/t:RunInfo", NS):
            text = info.find("t:Text", NS)
            for line in first_lines(text.text if text is not None else "", n):
                print(f"    {line}")


def main(argv):
    n = 6
    if len(argv) >= 2 and argv[0] == "--lines":
        n, argv = int(argv[1]), argv[2:]
    for path in argv:
        report(path, n)


if __name__ == "__main__":
    main(sys.argv[1:])
