#!/usr/bin/env python3
# tests/notify-check.py: a fake systemd for Type=notify.  Binds a datagram
# socket (a path, or an abstract one with --abstract), runs the daemon
# command given after "--" with NOTIFY_SOCKET naming it, and checks that
# the first datagram is READY=1 and arrives only once the vhost-user socket
# (--socket PATH) exists; then sends SIGTERM and expects STOPPING=1 before
# a clean exit.  Prints one line per failure; exits 0 when all held.
import argparse
import os
import signal
import socket
import subprocess
import sys


def fields(datagram):
    return dict(line.split("=", 1) for line in datagram.decode().split("\n")
                if "=" in line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--notify", required=True)
    ap.add_argument("--abstract", action="store_true")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    addr = "\0" + a.notify if a.abstract else a.notify
    s.bind(addr)
    s.settimeout(20)
    env = dict(os.environ)
    env["NOTIFY_SOCKET"] = "@" + a.notify if a.abstract else a.notify
    p = subprocess.Popen(cmd, env=env)
    bad = []
    try:
        first = s.recv(4096)
        exists = os.path.exists(a.socket)
        f = fields(first)
        if f.get("READY") != "1":
            bad.append("first datagram is not READY=1: %r" % first)
        if not exists:
            bad.append("READY=1 came before %s existed" % a.socket)
        p.send_signal(signal.SIGTERM)
        last = s.recv(4096)
        if fields(last).get("STOPPING") != "1":
            bad.append("after SIGTERM: %r, expected STOPPING=1" % last)
    except socket.timeout:
        bad.append("no datagram within 20 s")
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
    if rc != 0:
        bad.append("daemon exited with status %d" % rc)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
