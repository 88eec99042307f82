# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/benchlib.py: what the benchmark scripts (bench/compare, bench/qos)
share: finding or building the binaries, describing the machine, writing an
image, a back-end process pinned to a CPU (and qemu-storage-daemon's
command line), a process's CPU time, one vhost-uring-bench run as JSON,
number formatting, and replacing a marked part of README.md.
"""

import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKEND_CPU = "0"
LOAD_CPU = "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---- finding or building the binaries ---------------------------------------

def find_binaries(builddir, names, prog):
    """The programs names (such as "vhost-uring-blk") of one build tree:
    builddir, or the first tree that has them all, or a new build in
    _build/bench.  Returns their paths in the order of names."""
    candidates = [builddir] if builddir else [
        os.getcwd(), os.path.join(TOP, "_build", "default"),
        os.path.join(TOP, "_build", "demo"), os.path.join(TOP, "_build", "bench"), TOP]
    for d in candidates:
        paths = [os.path.join(d, n) for n in names]
        if all(os.access(p, os.X_OK) for p in paths):
            return paths
    if builddir:
        sys.exit(f"{prog}: no {' and '.join(names)} in {builddir}")
    d = os.path.join(TOP, "_build", "bench")
    log(f"{prog}: building vhost-uring in {d}")
    if not os.path.exists(os.path.join(TOP, "configure")):
        run(["./autogen.sh"], cwd=TOP, stdout=subprocess.DEVNULL)
    os.makedirs(d, exist_ok=True)
    if not os.path.exists(os.path.join(d, "Makefile")):
        run([os.path.join(TOP, "configure")], cwd=d, stdout=subprocess.DEVNULL)
    run(["make", f"-j{os.cpu_count()}"], cwd=d, stdout=subprocess.DEVNULL)
    return [os.path.join(d, n) for n in names]


# ---- the machine --------------------------------------------------------------

def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not installed"


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def machine(tools=()):
    """CPU, memory, kernel, liburing, date and load average, and the first
    line of each (key, command) of tools (a version)."""
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    info = {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1048576, 1),
        "kernel": platform.release(),
    }
    for key, cmd in tools:
        info[key] = first_line(cmd)
    info.update({
        "liburing": first_line(["pkg-config", "--modversion", "liburing"]),
        "date": datetime.date.today().isoformat(),
        "load_average": load_average(),
    })
    return info


# ---- images -------------------------------------------------------------------

def make_image(path, size, prog):
    """A fully written image (reads of holes would flatter every back-end)."""
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    log(f"{prog}: writing {size >> 20} MiB to {path}")
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(size >> 20):
            f.write(i.to_bytes(8, "little") + chunk[8:])
        f.flush()
        os.fsync(f.fileno())


# ---- back-ends and the load generator ----------------------------------------------

class Backend:
    """A back-end process, pinned to BACKEND_CPU, serving on sock: cmd is
    its command line (which must name sock), its output goes to logpath.
    Starting waits for the socket."""

    def __init__(self, cmd, sock, logpath):
        self.sock = sock
        if os.path.exists(sock):
            os.unlink(sock)
        self.log = open(logpath, "w")
        self.proc = subprocess.Popen(["taskset", "-c", BACKEND_CPU, *cmd],
                                     stdout=self.log, stderr=self.log)
        for _ in range(200):
            if os.path.exists(sock):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{cmd[0]} did not start (see {logpath})")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def qsd_cmd(image, engine, sock, queues):
    """qemu-storage-daemon exporting image (O_DIRECT, aio=engine: io_uring
    or native) as a vhost-user-blk device with queues queues on sock."""
    return ["qemu-storage-daemon", "--blockdev",
            f"driver=file,node-name=f0,filename={image},aio={engine},cache.direct=on",
            "--export",
            f"type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,"
            f"addr.path={sock},writable=on,num-queues={queues}"]


def proc_cpu_s(pid):
    """CPU seconds (user and system, all threads) of process pid so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def bench_json(bench, be, args, runtime, ramp):
    """vhost-uring-bench on LOAD_CPU against be, measuring it, with args
    (workload options): its JSON report as a dict."""
    cmd = ["taskset", "-c", LOAD_CPU, bench, f"--socket={be.sock}",
           f"--runtime={runtime}", f"--ramp={ramp}", f"--backend-pid={be.proc.pid}",
           "--json", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=runtime + ramp + 180)
    if out.returncode != 0:
        raise RuntimeError(f"vhost-uring-bench failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


# ---- output ---------------------------------------------------------------------------

def fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def update_readme(md, name, prog):
    """Replace what lies between README.md's <!-- NAME:begin --> and
    <!-- NAME:end --> with md."""
    path = os.path.join(TOP, "README.md")
    with open(path) as f:
        text = f.read()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        sys.exit(f"{prog}: README.md has no {begin} and {end} markers")
    pre, rest = text.split(begin, 1)
    _, post = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(pre + begin + "\n" + md + "\n" + end + post)
