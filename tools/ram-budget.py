#!/usr/bin/env python3
"""RAM budget of a board profile: what lanchat may use at its configured maximum.

    python3 tools/ram-budget.py BOARD...      (make ram-budget: every board)

For each board it builds the board's binary (run under qemu-user) and a native
x86-64 binary with the same -D options, and puts each under the same bounded
load on 127.0.0.1: one account registered and logged in (argon2id), then the
load generator (build/loadgen) with every WebSocket client slot connected and
joined and 8 senders posting maximum-size messages (2000 bytes) fanned out to
every client. It prints:

  pools      sum of element size x count from `--version` of the board's binary
             (the target's own struct sizes), reserved at boot; every pool of
             src/pools.def, among them `connbuf`, each WebSocket's input,
             reassembly buffer and private queue, and `feed`, each room's ring
             of frames (both taken unzeroed, so untouched pages stay out of
             RSS; a hostile client can touch its own connbuf block whole)
  static     data + bss of the board's binary (size(1)): module state, among
             it the I/O threads' buffers and member lists
  sqlite     CHAT_SQLITE_HEAP_LIMIT, SQLite's hard heap limit
  native     VmHWM of the native process under the load: a real RSS, with
             x86-64 (LP64) sizes; the argon2id hash is in it
  budget     native + pools + static + sqlite: pools, static data and
             SQLite's cache counted in full although the load touched part of
             them (and that part is in native too): an upper bound
  emulated   for reference: VmHWM of qemu-user running the board's binary under
             the same load, less qemu's VmHWM for the same binary's --version.
             It is mostly the emulator: qemu keeps a CPU state and a host
             stack per guest thread (about 0.3 MiB each), so it is not used
             for the budget.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.dont_write_bytecode = True


def make(*args):
    subprocess.run(["make", "-s", "-C", ROOT] + list(args), check=True,
                   stdout=subprocess.DEVNULL)


def board_info(board):
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "BOARD=" + board,
                          "board-info"], check=True, stdout=subprocess.PIPE, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def version_text(binary):
    return subprocess.run([binary, "--version"], check=True, stdout=subprocess.PIPE,
                          text=True).stdout


def pools(text):
    """{name: (count, size)} from the 'pools:' lines of --version."""
    return {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"^\s+(\w+)\s+(\d+) x\s+(\d+) bytes", text, re.M)}


def sqlite_limit(text):
    return int(re.search(r"sqlite-heap=(\d+)", text).group(1))


def static_bytes(binary):
    """data + bss of an ELF file, from size(1)."""
    out = subprocess.run(["size", binary], check=True, stdout=subprocess.PIPE, text=True).stdout
    text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
    return data + bss


def hwm_of_run(argv):
    """Peak RSS (KiB) of a short run, from wait4()."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = status
    return usage.ru_maxrss


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def load(binary, clients):
    """Runs the load against binary; returns (idle VmRSS, VmHWM, threads) in KiB."""
    os.environ["LANCHAT_BIN"] = os.path.abspath(binary)
    import harness
    from harness import Server, run_loadgen, uname
    with Server(label="ram") as srv:
        pid = srv.proc.pid
        assert srv.get("/healthz").status == 200
        idle = status_kib(pid, "VmRSS")
        name = uname("acct")
        srv.register(name, "a long enough password")
        srv.session(name, "a long enough password")
        code, report = run_loadgen(srv, "--clients", clients, "--senders", 8, "--messages", 8,
                                   "--body-bytes", 2000, "--timeout", 300, timeout=900)
        if code != 0:
            raise RuntimeError("the load did not pass: %r" % report)
        hwm = status_kib(pid, "VmHWM")
        threads = report["server"]["threads"]
    harness.wait_reapers()
    return idle, hwm, threads


def mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


def main():
    boards = sys.argv[1:]
    if not boards:
        print(__doc__)
        return 2
    for board in boards:
        info = board_info(board)
        make("BOARD=" + board, "all", "build/%s/emulated/lanchat" % board, "build/loadgen")
        native_out = "build/ram/" + board
        # BOARD_DEFINES from the command line is no prerequisite: build afresh.
        shutil.rmtree(os.path.join(ROOT, native_out), ignore_errors=True)
        make("BOARD=desktop", "OUT=" + native_out, "BOARD_DEFINES=" + info["defines"], "all")
        emulated = os.path.join(ROOT, "build", board, "emulated", "lanchat")
        native = os.path.join(ROOT, native_out, "lanchat")
        text = version_text(emulated)
        pool = pools(text)
        pool_kib = sum(c * s for c, s in pool.values()) / 1024.0
        sqlite_kib = sqlite_limit(text) / 1024.0
        static_kib = static_bytes(os.path.join(ROOT, "build", board, "lanchat")) / 1024.0
        clients = pool["conn"][0]
        n_idle, n_hwm, n_threads = load(native, clients)
        if info["triple"]:
            base = hwm_of_run([emulated, "--version"])
            e_idle, e_hwm, e_threads = load(emulated, clients)
        budget = n_hwm + pool_kib + static_kib + sqlite_kib
        print("%s (%s, %s)" % (board, info["arch"], info["cflags"] or "native"))
        for name, (count, size) in pool.items():
            print("  pool %-8s %5d x %6d bytes = %s" % (name, count, size, mib(count * size / 1024.0)))
        print("  pools total          %s" % mib(pool_kib))
        print("  static data+bss      %s  (size(1) of the board's binary; no pool in it)"
              % mib(static_kib))
        print("  sqlite heap limit    %s" % mib(sqlite_kib))
        print("  native x86-64, same -D: idle VmRSS %s, VmHWM under load %s, %d threads, "
              "%d clients" % (mib(n_idle), mib(n_hwm), n_threads, clients))
        print("  budget               %s  (native VmHWM + pools + static + sqlite)" % mib(budget))
        if info["triple"]:
            print("  for reference, qemu-user: --version VmHWM %s; under load VmHWM %s, idle "
                  "VmRSS %s, %d threads -> %s above --version"
                  % (mib(base), mib(e_hwm), mib(e_idle), e_threads, mib(e_hwm - base)))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
