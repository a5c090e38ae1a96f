"""Reads a JUnit file the way CI systems do (junitparser) and prints one JSON line per test
case: name, classname, result (passed/failure/error) and message. Exit 1 if unreadable."""
import json
import sys

from junitparser import Error, Failure, JUnitXml

xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    for case in suite:
        result, message = "passed", None
        for r in case.result:
            if isinstance(r, Failure):
                result, message = "failure", r.message
            elif isinstance(r, Error):
                result, message = "error", r.message
        print(json.dumps({"suite": suite.name, "name": case.name, "classname": case.classname,
                          "result": result, "message": message}))
