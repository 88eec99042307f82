#!/usr/bin/env python3
# tests/guest/qmp.py -- a minimal QMP client for the guest tests.
#
# Owns the host's talk to a running QEMU's monitor (guest-qemu.sh calls it
# for live migration): connect to QEMU's QMP socket, negotiate
# capabilities, run one or more commands in order, print their results.
#
# Usage: qmp.py SOCKET [--poll SECS KEY=VALUE[|VALUE...]] COMMAND...
#   each COMMAND is a QMP command name, optionally followed by a blank and
#   its arguments as a JSON object, e.g.
#     qmp.py /tmp/q.sock 'migrate {"uri": "unix:/tmp/m.sock"}' query-migrate
#   --poll: run the last COMMAND again every 0.2 s until its output has
#   KEY=VALUE for one of the VALUEs, for at most SECS seconds (exit status
#   3 when none came; the last output is printed either way), e.g.
#     qmp.py /tmp/q.sock --poll 60 'status=completed|failed' query-migrate
# Output: each command's return value, flattened to one "key=value" line
# per leaf ("ram.transferred=123"); a return that is not an object prints
# as "return=VALUE".  Events are ignored.
# Exit status: 0; 3 when --poll ran out of time; 1 when QEMU answered a command with an error (the error
# goes to stderr, later commands are not run); 2 when the socket could not
# be reached or QEMU did not answer within QMP_TIMEOUT seconds (default
# 30).  Connecting is retried for QMP_CONNECT_TIMEOUT seconds (default 5),
# as QEMU creates the socket after it starts.
import json
import os
import socket
import sys
import time

TIMEOUT = float(os.environ.get("QMP_TIMEOUT", "30"))
CONNECT_TIMEOUT = float(os.environ.get("QMP_CONNECT_TIMEOUT", "5"))


def die(status, msg):
    sys.stderr.write("qmp: %s\n" % msg)
    sys.exit(status)


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(prefix + "." + k if prefix else k, v, out)
    elif isinstance(value, list):
        out.append("%s=%s" % (prefix or "return", json.dumps(value)))
    elif isinstance(value, bool):
        out.append("%s=%s" % (prefix or "return", "true" if value else "false"))
    else:
        out.append("%s=%s" % (prefix or "return", value))


class Qmp:
    def __init__(self, path):
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except OSError as e:
                s.close()
                if time.monotonic() >= deadline:
                    die(2, "cannot connect to %s: %s" % (path, e))
                time.sleep(0.1)
        s.settimeout(TIMEOUT)
        self.sock = s
        self.buf = b""
        greeting = self.read()
        if "QMP" not in greeting:
            die(2, "%s: no QMP greeting: %r" % (path, greeting))

    def read(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                die(2, "QEMU did not answer within %gs" % TIMEOUT)
            if not data:
                die(2, "QEMU closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, name, args=None):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            resp = self.read()
            if "return" in resp:
                return resp["return"]
            if "error" in resp:
                e = resp["error"]
                die(1, "%s: %s: %s" % (name, e.get("class"), e.get("desc")))
            # an event: not ours


def main():
    argv = sys.argv[1:]
    poll = None
    if len(argv) >= 4 and argv[1] == "--poll":
        key, _, values = argv[3].partition("=")
        poll = (float(argv[2]), ["%s=%s" % (key, v) for v in values.split("|")])
        argv = argv[:1] + argv[4:]
    if len(argv) < 2:
        die(2, "usage: qmp.py SOCKET [--poll SECS KEY=VALUE[|VALUE...]] COMMAND...")
    q = Qmp(argv[0])
    q.execute("qmp_capabilities")
    cmds = argv[1:]
    for i, cmd in enumerate(cmds):
        name, _, args = cmd.strip().partition(" ")
        try:
            args = json.loads(args) if args.strip() else None
        except ValueError as e:
            die(2, "%s: arguments are not JSON: %s" % (name, e))
        deadline = time.monotonic() + (poll[0] if poll else 0)
        while True:
            out = []
            flatten("", q.execute(name, args), out)
            if not poll or i < len(cmds) - 1 or any(w in out for w in poll[1]):
                break
            if time.monotonic() >= deadline:
                print("\n".join(out))
                sys.exit(3)
            time.sleep(0.2)
        for line in out:
            print(line)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
