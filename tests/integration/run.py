#!/usr/bin/env python3
"""Runs every test_* function of tests/integration/test_*.py (modules and functions
sorted by name) against the real lanchat binary.

    python3 tests/integration/run.py [--bin PATH] [--suite NAME] [-k SUBSTRING] [-v]

Prints "ok   <name>" or "FAIL <name>" (with the traceback and the server log tail)
per test and ends with "<suite>: N passed, M failed" (--suite, default
"integration": integration-minimal, integration-rpi4, ...); exit status 1 if M > 0.
The binary defaults to LANCHAT_BIN, else build/desktop/lanchat of this repository.
"""

import argparse
import importlib
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree


def _interrupt(signum, frame):
    # SIGTERM / SIGHUP: stop like Ctrl-C so that servers and temp dirs are cleaned up.
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="lanchat binary (overrides LANCHAT_BIN)")
    ap.add_argument("--suite", default="integration",
                    help="the name of the summary line (default: integration)")
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    ap.add_argument("-v", action="store_true", help="print each test's duration")
    args = ap.parse_args()
    if args.bin:
        os.environ["LANCHAT_BIN"] = os.path.abspath(args.bin)
    sys.path.insert(0, HERE)
    import harness

    binary = harness.binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print("%s: no executable lanchat binary at %s (use --bin or LANCHAT_BIN)"
              % (args.suite, binary))
        print("%s: 0 passed, 1 failed" % args.suite)
        return 1
    try:
        feats = harness.features()
    except Exception:
        traceback.print_exc()
        print("%s: 0 passed, 1 failed" % args.suite)
        return 1
    print("# %s  features: %s%s" % (binary, " ".join(sorted(feats)) or "none",
                                    "  sanitizer: " + harness.sanitizer()
                                    if harness.sanitizer() else ""))

    passed = failed = 0
    seen = {}
    t_all = time.monotonic()
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        modname = fname[:-3]
        try:
            mod = importlib.import_module(modname)
        except Exception:
            print("FAIL %s (import)" % modname)
            traceback.print_exc(file=sys.stdout)
            failed += 1
            continue
        tests = sorted((n, f) for n, f in vars(mod).items()
                       if n.startswith("test_") and callable(f))
        if args.pattern:
            tests = [(n, f) for n, f in tests if args.pattern in n]
        try:
            for name, fn in tests:
                if name in seen:
                    print("# warning: %s is defined in %s and %s" % (name, seen[name], modname))
                seen[name] = modname
                harness.begin_test()
                t0 = time.monotonic()
                try:
                    fn()
                    if harness.sanitizer():
                        # The test's own servers have exited (a leak is reported
                        # at exit) before its reports are read.
                        harness.wait_reapers()
                        reports = harness.sanitizer_reports()
                        if reports:
                            raise AssertionError("sanitizer reports:\n" + reports)
                except BaseException as e:  # noqa: B902 - report everything, go on
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    failed += 1
                    print("FAIL %s" % name)
                    traceback.print_exc(file=sys.stdout)
                    logs = harness.failure_logs()
                    if logs:
                        print(logs)
                    if harness.sanitizer():
                        harness.wait_reapers()
                        print(harness.sanitizer_reports())
                else:
                    passed += 1
                    print("ok   %s%s" % (name, "  (%.2f s)" % (time.monotonic() - t0)
                                         if args.v else ""))
                finally:
                    try:
                        harness.end_test()
                    except Exception:
                        traceback.print_exc(file=sys.stdout)
                sys.stdout.flush()
        finally:
            harness.stop_shared()
            if harness.sanitizer():
                harness.wait_reapers()
                reports = harness.sanitizer_reports()
                if reports:
                    failed += 1
                    print("FAIL %s (its shared servers)\n%s" % (modname, reports))
    harness.wait_reapers()
    reports = harness.sanitizer_reports()
    if reports:
        failed += 1
        print("FAIL sanitizer reports after the last test\n%s" % reports)
    for line in harness.unclean_stops:
        print("# warning: %s" % line)
    if args.v:
        print("# total %.1f s" % (time.monotonic() - t_all))
    print("%s: %d passed, %d failed" % (args.suite, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        print("integration: interrupted (%s)" % (e or "Ctrl-C"))
        sys.exit(130)
