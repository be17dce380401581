#!/usr/bin/env python3
"""Times a large sweep's start and its per-job overhead, as a user sees them.

Launches `stylesweep sweep SWEEP --store STORE` (one process: coordinator and
one worker), stops it with SIGTERM after RUN_SECONDS (a clean stop: running
jobs are recorded KILLED), then reads the store:

  first job started   seconds from launch to the first run started in this launch
  jobs finished       runs finished in this launch
  cycle               mean seconds between consecutive job starts
  optimize            mean seconds of the "optimize" timing of those runs
  overhead            cycle - optimize: load, hand-off, record, write per job

usage: sweep_start_bench.py STYLESWEEP SWEEP STORE RUN_SECONDS [extra sweep args]
Peak memory of the process comes from /usr/bin/time (the coordinator is the
only process without mpiexec).
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    binary, sweep, store, seconds = sys.argv[1:5]
    extra = sys.argv[5:]
    launch = time.time()
    command = ["/usr/bin/time", "-f", "peak_rss_kb %M", binary, "sweep", sweep, "--store", store,
               "--progress", "plain", "--progress-interval", "10"] + extra
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    time.sleep(float(seconds))
    # SIGTERM to the sweep itself (the child of /usr/bin/time).
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    for child in children:
        os.kill(int(child), signal.SIGTERM)
    _, err = process.communicate(timeout=600)
    peak = [line for line in err.splitlines() if line.startswith("peak_rss_kb")]
    db = sqlite3.connect(os.path.join(store, "store.db"))
    starts = [row[0] for row in db.execute(
        "SELECT start_time FROM runs WHERE start_time >= ? ORDER BY start_time", (launch,))]
    finished = db.execute("SELECT count(*) FROM runs WHERE status = 'FINISHED' AND start_time >= ?",
                          (launch,)).fetchone()[0]
    optimize = db.execute(
        "SELECT avg(t.seconds) FROM timings t JOIN runs r ON r.id = t.run_id "
        "WHERE t.phase = 'optimize' AND r.start_time >= ? AND r.status = 'FINISHED'", (launch,)).fetchone()[0]
    total = db.execute("SELECT count(*), sum(status = 'FINISHED') FROM runs").fetchone()
    print("runs in store %d (finished %d)" % (total[0], total[1] or 0))
    if not starts:
        print("no job started within %s s" % seconds)
    else:
        print("first job started %.2f s after launch" % (starts[0] - launch))
        print("jobs finished %d" % finished)
        if len(starts) > 1:
            cycle = (starts[-1] - starts[0]) / (len(starts) - 1)
            print("cycle %.4f s per job, optimize %.4f s, overhead %.4f s" % (cycle, optimize or 0.0,
                                                                          cycle - (optimize or 0.0)))
    for line in peak:
        print(line)
    tail = [line for line in err.splitlines() if not line.startswith("peak_rss_kb")][-3:]
    for line in tail:
        print("  " + line)


if __name__ == "__main__":
    main()
