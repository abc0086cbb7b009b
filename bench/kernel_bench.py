"""Kernel start time and trivial-cell round trip of the rlcd4j Jupyter kernel, measured with jupyter_client.

  start:       KernelManager.start_kernel() until the kernel_info_reply arrives (what a front end waits for)
  first cell:  the first execute_request ("1 + 1") to its execute_reply; includes waiting for JShell to be ready
  round trip:  execute_request -> execute_reply of "1 + 1" over N later cells (median, p90)
  shutdown:    shutdown_request until the kernel process has exited

Run (after `mvn -B -DskipTests package` and `rlcd kernel install --jupyter-path kernel/target/jupyter`):
  JUPYTER_PATH=kernel/target/jupyter /usr/bin/python3 -Xfrozen_modules=off bench/kernel_bench.py --starts 5 --cells 50
"""
import argparse
import os
import statistics
import time

from jupyter_client.manager import KernelManager


def one_run(name, cells):
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)  # sends kernel_info_request until a reply arrives
    start = time.perf_counter() - t0

    def cell(code):
        t = time.perf_counter()
        msg_id = kc.execute(code)
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "ok", reply["content"]
        return time.perf_counter() - t

    first = cell("1 + 1")
    trips = [cell("1 + 1") for _ in range(cells)]
    proc = km.provisioner.process if getattr(km, "provisioner", None) else km.kernel
    t = time.perf_counter()
    kc.shutdown()
    while proc.poll() is None and time.perf_counter() - t < 30:
        time.sleep(0.01)
    shutdown = time.perf_counter() - t
    kc.stop_channels()
    km.cleanup_resources()
    return start, first, trips, shutdown


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default=os.environ.get("KERNEL_NAME", "rlcd-java"))
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--cells", type=int, default=50)
    a = ap.parse_args()
    starts, firsts, trips, shutdowns = [], [], [], []
    for i in range(a.starts):
        s, f, t, d = one_run(a.kernel, a.cells)
        starts.append(s); firsts.append(f); trips.extend(t); shutdowns.append(d)
        print("run %d: start %.3f s, first cell %.0f ms, median cell %.1f ms, shutdown %.2f s"
              % (i + 1, s, f * 1e3, statistics.median(t) * 1e3, d))
    trips.sort()
    print()
    print("kernel: %s, %d starts x %d cells" % (a.kernel, a.starts, a.cells))
    print("start -> kernel_info_reply: median %.3f s (min %.3f, max %.3f)" % (statistics.median(starts), min(starts), max(starts)))
    print("first cell (JShell warm-up): median %.0f ms" % (statistics.median(firsts) * 1e3))
    print("trivial cell round trip: median %.1f ms, p90 %.1f ms, max %.1f ms (n=%d)"
          % (statistics.median(trips) * 1e3, trips[int(0.9 * (len(trips) - 1))] * 1e3, trips[-1] * 1e3, len(trips)))
    print("shutdown_request -> exit: median %.2f s" % statistics.median(shutdowns))


if __name__ == "__main__":
    main()
