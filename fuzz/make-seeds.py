#!/usr/bin/env python3
# fuzz/make-seeds.py: writes the hand-made seed inputs of the fuzz harnesses
# into fuzz/corpus/<name>/seed-*.  Run it again after changing an input
# format; regression inputs (regress-*) found by fuzzing are kept as they are.
import os
import struct
import sys

TOP = os.path.dirname(os.path.abspath(__file__))


def write(name, seeds):
    d = os.path.join(TOP, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith('seed-'):
            os.unlink(os.path.join(d, f))
    for label, data in seeds.items():
        with open(os.path.join(d, 'seed-' + label), 'wb') as f:
            f.write(data)


# ---- vu-msg: records of (fd spec, length, stream bytes) ------------------
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM = 15, 16, 17
SET_VRING_ENABLE, GET_CONFIG, SET_CONFIG = 18, 24, 25
GET_INFLIGHT_FD, SET_INFLIGHT_FD, INFLIGHT_SHMFD = 31, 32, 12
GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG = 36, 37, 38
SET_LOG_BASE, SET_LOG_FD, LOG_SHMFD, LOG_ALL = 6, 7, 1, 26
SET_BACKEND_REQ_FD, BACKEND_REQ = 21, 5
V, NEED_REPLY = 1, 8
# What blk_dev.c offers for a writable memfd image: SIZE_MAX, SEG_MAX,
# BLK_SIZE, FLUSH, TOPOLOGY, CONFIG_WCE, MQ, DISCARD, WRITE_ZEROES.
BLK_FEATURES = 0x7e46
# fd kinds, as fuzz-vu-msg.c numbers them; SIZED + k: a memfd made for the
# record first, then kinds from k
MEMFD, EVENTFD, DEVNULL, RO_MEMFD, SEALED, SMALL, PIPE, SIZED = range(8)
QVA = 0x7f0000000000


def msg(req, payload=b'', flags=V):
    return struct.pack('<III', req, flags, len(payload)) + payload


def rec(data, nfds=0, kind=0, size=4096):
    """A record; with kind >= SIZED its first fd is a memfd of size bytes
    (an int), or of size[0] pages of 4 KiB when size is a 1-tuple."""
    head = struct.pack('<B', (kind << 4) | nfds)
    if nfds and kind >= SIZED:
        v = (0x80000000 | size[0]) if isinstance(size, tuple) else size
        head += struct.pack('<I', v)
    return head + struct.pack('<H', len(data)) + data


def u64(v):
    return struct.pack('<Q', v)


def state(i, n):
    return struct.pack('<II', i, n)


def region(gpa, size, qva, off):
    return struct.pack('<QQQQ', gpa, size, qva, off)


def features(log=False):
    return ((1 << 32) | (1 << 30) | (1 << 28) | (1 << 29) | BLK_FEATURES |
            ((1 << LOG_ALL) if log else 0))


def negotiate(ack=True, extra_pf=0, log=False):
    pf = (1 << 0) | (1 << 9) | (1 << 15) | ((1 << 3) if ack else 0) | extra_pf
    f = features(log)
    return [rec(msg(GET_FEATURES)), rec(msg(GET_PROTOCOL_FEATURES)),
            rec(msg(SET_PROTOCOL_FEATURES, u64(pf))),
            rec(msg(GET_QUEUE_NUM)), rec(msg(SET_OWNER)),
            rec(msg(SET_FEATURES, u64(f), V | NEED_REPLY))]


def ring(q, num=128, base=0):
    addr = struct.pack('<IIQQQQ', q, 0, QVA, QVA + 0x2000, QVA + 0x1000, 0)
    return [rec(msg(SET_VRING_CALL, u64(q), V | NEED_REPLY), 1, EVENTFD),
            rec(msg(SET_VRING_ERR, u64(q), V | NEED_REPLY), 1, EVENTFD),
            rec(msg(SET_VRING_NUM, state(q, num), V | NEED_REPLY)),
            rec(msg(SET_VRING_BASE, state(q, base), V | NEED_REPLY)),
            rec(msg(SET_VRING_ADDR, addr, V | NEED_REPLY)),
            rec(msg(SET_VRING_KICK, u64(q), V | NEED_REPLY), 1, EVENTFD),
            rec(msg(SET_VRING_ENABLE, state(q, 1), V | NEED_REPLY))]


def mem_table(regions, kind=MEMFD):
    body = struct.pack('<II', len(regions), 0) + b''.join(regions)
    return rec(msg(SET_MEM_TABLE, body, V | NEED_REPLY), len(regions), kind)


def vu_msg_seeds():
    one = [region(0, 1 << 20, QVA, 0)]
    add = lambda r, kind=MEMFD: rec(msg(ADD_MEM_REG, u64(0) + r, V | NEED_REPLY), 1, kind)
    rem = lambda r: rec(msg(REM_MEM_REG, u64(0) + r, V | NEED_REPLY))
    cfg = lambda off, size, data=b'': struct.pack('<III', off, size, 0) + data
    s = {}
    s['negotiate'] = negotiate() + [rec(msg(GET_CONFIG, cfg(0, 60, bytes(60)))),
                                    rec(msg(GET_MAX_MEM_SLOTS))]
    s['ring-setup'] = (negotiate() + [mem_table(one)] + ring(0) + ring(1, 256) +
                       [rec(msg(GET_VRING_BASE, state(0, 0)))])
    s['add-rem'] = (negotiate() + [add(region(0, 1 << 19, QVA, 0)),
                                   add(region(1 << 19, 1 << 19, QVA + (1 << 19), 1 << 19))] +
                    ring(0) + [rem(region(0, 1 << 19, QVA, 0)),
                               rec(msg(GET_VRING_BASE, state(0, 0)))])
    s['config'] = negotiate() + [rec(msg(SET_CONFIG, cfg(32, 1, b'\0'), V | NEED_REPLY)),
                                 rec(msg(GET_CONFIG, cfg(32, 1, b'\0')))]
    s['reset-owner'] = negotiate() + [mem_table(one)] + ring(0) + [rec(msg(RESET_OWNER))]
    s['no-ack'] = negotiate(False) + [mem_table(one)] + ring(0)
    # Hostile ones, as in tests/test-hostile-msg-proto.c and -mem.c.
    s['truncated-header'] = [rec(msg(GET_FEATURES)[:7])]
    s['truncated-payload'] = negotiate() + [rec(msg(SET_FEATURES, u64(1 << 32))[:15])]
    s['fds-on-owner'] = negotiate() + [rec(msg(SET_OWNER, flags=V | NEED_REPLY), 3, EVENTFD)]
    s['nine-fds'] = negotiate() + [rec(msg(SET_MEM_TABLE, struct.pack('<II', 1, 0) + one[0]), 9)]
    s['nine-regions'] = negotiate() + [rec(msg(SET_MEM_TABLE, struct.pack('<II', 9, 0) +
                                               one[0] * 7, V | NEED_REPLY))]
    s['bad-regions'] = negotiate() + [mem_table([region(0, 0, QVA, 0)]),
                                      mem_table([region(2**64 - 4096, 8192, QVA, 0)]),
                                      mem_table([region(0, 4096, QVA, 1 << 20)]),
                                      mem_table(one, RO_MEMFD), mem_table(one, SEALED),
                                      mem_table(one, EVENTFD), mem_table(one, DEVNULL)]
    s['bad-index'] = negotiate() + [rec(msg(SET_VRING_NUM, state(4, 128), V | NEED_REPLY)),
                                    rec(msg(SET_VRING_KICK, u64(200), V | NEED_REPLY), 1, EVENTFD),
                                    rec(msg(GET_VRING_BASE, state(9, 0), V | NEED_REPLY))]
    s['vring-fds-not-eventfd'] = (negotiate() + [mem_table(one)] + ring(0) +
                                  [rec(msg(SET_VRING_KICK, u64(0), V | NEED_REPLY), 1, DEVNULL),
                                   rec(msg(SET_VRING_CALL, u64(0), V | NEED_REPLY), 1, SMALL),
                                   rec(msg(SET_VRING_ERR, u64(0), V | NEED_REPLY), 1, PIPE)])
    inflight = lambda size, nq, qs: struct.pack('<QQHH4x', size, 0, nq, qs)
    s['inflight'] = (negotiate(extra_pf=1 << INFLIGHT_SHMFD) +
                     [rec(msg(GET_INFLIGHT_FD, inflight(0, 2, 128))),
                      rec(msg(SET_INFLIGHT_FD, inflight(1 << 16, 2, 128), V | NEED_REPLY), 1, MEMFD),
                      mem_table(one)] + ring(0) + ring(1) +
                     [rec(msg(GET_VRING_BASE, state(0, 0))),
                      rec(msg(SET_INFLIGHT_FD, inflight(1 << 20, 4, 256), V | NEED_REPLY), 1, SMALL)])
    s['unknown'] = negotiate() + [rec(msg(99, u64(0), V | NEED_REPLY), 1, PIPE),
                                  rec(msg(0))]
    s['config-bad'] = negotiate() + [rec(msg(GET_CONFIG, cfg(0xfffffff0, 32, bytes(32)))),
                                     rec(msg(SET_CONFIG, cfg(0, 8, bytes(8)), V | NEED_REPLY))]
    s.update(log_seeds(one))
    # SET_BACKEND_REQ_FD (21): not negotiated, no fd, not a socket.
    s['backend-req'] = (negotiate(extra_pf=1 << BACKEND_REQ) +
                        [rec(msg(SET_BACKEND_REQ_FD, flags=V | NEED_REPLY)),
                         rec(msg(SET_BACKEND_REQ_FD, flags=V | NEED_REPLY), 1, EVENTFD),
                         rec(msg(SET_BACKEND_REQ_FD, flags=V | NEED_REPLY), 1, PIPE),
                         rec(msg(SET_BACKEND_REQ_FD, u64(0), V | NEED_REPLY), 2, DEVNULL)] +
                        negotiate() +
                        [rec(msg(SET_BACKEND_REQ_FD, flags=V | NEED_REPLY), 1, MEMFD)])
    return {k: b''.join(v) for k, v in s.items()}


def log_seeds(one):
    """Dirty logging: SET_LOG_BASE, SET_LOG_FD, SET_FEATURES with and without
    VHOST_F_LOG_ALL, with rings set up while logging is on and off."""
    log_pf = 1 << LOG_SHMFD
    # 1 MiB of guest memory at gpa 0: 256 pages, 32 bytes of log.
    base = lambda size, off=0, nfds=1, kind=SIZED, fsize=4096: rec(
        msg(SET_LOG_BASE, struct.pack('<QQ', size, off)), nfds, kind, fsize)
    log_fd = lambda nfds=1, kind=EVENTFD: rec(msg(SET_LOG_FD, flags=V | NEED_REPLY), nfds, kind)
    feat = lambda log: rec(msg(SET_FEATURES, u64(features(log)), V | NEED_REPLY))
    s = {}
    # As QEMU migrates: rings run, then the log, then LOG_ALL and F_LOG.
    addr_log = lambda q: rec(msg(SET_VRING_ADDR, struct.pack(
        '<IIQQQQ', q, 1, QVA, QVA + 0x2000, QVA + 0x1000, 0x2000), V | NEED_REPLY))
    s['log-migrate'] = (negotiate(extra_pf=log_pf) + [mem_table(one)] + ring(0) + ring(1) +
                        [log_fd(), base(32), feat(True), addr_log(0), addr_log(1),
                         feat(False), rec(msg(GET_VRING_BASE, state(0, 0)))])
    # LOG_ALL from the start: the rings wait for the log, then run.
    s['log-first'] = (negotiate(extra_pf=log_pf, log=True) + [mem_table(one)] + ring(0) +
                      [addr_log(0), base(4096, 0, fsize=8192), base(32, 4096, fsize=8192),
                       feat(False), feat(True), rec(msg(GET_VRING_BASE, state(0, 0)))])
    # A log that stops covering guest memory once a region is added.
    s['log-grow'] = (negotiate(extra_pf=log_pf) +
                     [rec(msg(ADD_MEM_REG, u64(0) + region(0, 1 << 19, QVA, 0), V | NEED_REPLY), 1),
                      base(16), feat(True)] + ring(0) +
                     [rec(msg(ADD_MEM_REG, u64(0) + region(1 << 30, 1 << 19, QVA + (1 << 19),
                                                         1 << 19), V | NEED_REPLY), 1),
                      base(32), base(1 << 15, fsize=1 << 15)])
    # Refused descriptions and fds; the last one is good.
    s['log-bad'] = (negotiate(extra_pf=log_pf) + [mem_table(one), feat(True)] + ring(0) +
                    [base(0), base(2**64 - 1), base(1 << 30), base((1 << 30) + 1),
                     base(32, 4096), base(32, 4090), base(32, 2**64 - 16), base(16),
                     base(32, kind=EVENTFD), base(32, kind=DEVNULL),
                     base(32, kind=RO_MEMFD), base(32, kind=SEALED), base(32, kind=PIPE),
                     base(32, fsize=0), base(32, fsize=31),
                     base(1 << 30, fsize=(1 << 18,)), base(32, 1 << 40, fsize=(0x7fffffff,)),
                     base(32, 100), base(64, 4032), rec(msg(GET_VRING_BASE, state(0, 0)))])
    # A wrong fd count ends the connection: one seed each.
    s['log-no-fd'] = negotiate(extra_pf=log_pf) + [mem_table(one), base(32, nfds=0)]
    s['log-two-fds'] = negotiate(extra_pf=log_pf) + [mem_table(one), base(32, nfds=2)]
    s['log-fd'] = (negotiate(extra_pf=log_pf) +
                   [log_fd(), log_fd(kind=DEVNULL), log_fd(kind=PIPE), log_fd(kind=SIZED),
                    log_fd(0), log_fd(2), rec(msg(SET_LOG_FD, u64(0)), 1, EVENTFD)])
    # Without LOG_SHMFD the log is refused; LOG_ALL alone holds the rings.
    s['log-no-shmfd'] = (negotiate(log=True) + [mem_table(one)] + ring(0) +
                         [base(32), rec(msg(GET_VRING_BASE, state(0, 0)))])
    return s


# ---- virtq: queue size selector, flags, last_avail_idx, memory image -----
REG0 = 0x10000
DESC, AVAIL, USED = 0x0, 0x1000, 0x1800
NEXT, WRITE, INDIRECT = 1, 2, 4


class Image:
    def __init__(self):
        self.b = bytearray()

    def put(self, off, data):
        if len(self.b) < off + len(data):
            self.b.extend(bytes(off + len(data) - len(self.b)))
        self.b[off:off + len(data)] = data

    def desc(self, table, i, gpa, length, flags, nxt=0):
        self.put(table + 16 * i, struct.pack('<QIHH', gpa, length, flags, nxt))

    def avail(self, heads, idx=None, num=8):
        self.put(AVAIL + 2, struct.pack('<H', len(heads) if idx is None else idx))
        for k, h in enumerate(heads):
            self.put(AVAIL + 4 + 2 * (k % num), struct.pack('<H', h))


def virtq_seed(num_sel, flags, last, img):
    return struct.pack('<BBH', num_sel, flags, last) + bytes(img.b)


def blk_chain(img, table, first, hdr, data, data_len, write, st, last_flags=0):
    img.desc(table, first, REG0 + hdr, 16, NEXT, first + 1)
    img.desc(table, first + 1, REG0 + data, data_len, NEXT | (WRITE if write else 0), first + 2)
    img.desc(table, first + 2, REG0 + st, 1, WRITE | last_flags)


def virtq_seeds():
    s = {}
    img = Image()
    blk_chain(img, DESC, 0, 0x4000, 0x5000, 512, True, 0x6000)
    img.avail([0])
    s['simple'] = virtq_seed(3, 3, 0, img)

    img = Image()
    blk_chain(img, 0x7000, 0, 0x4000, 0x5000, 4096, False, 0x6000)
    img.desc(DESC, 0, REG0 + 0x7000, 48, INDIRECT)
    img.desc(DESC, 1, REG0 + 0x4100, 16, NEXT, 2)
    img.desc(DESC, 2, REG0 + 0x7100, 32, INDIRECT)
    img.desc(0x7100, 0, REG0 + 0x5000, 512, WRITE | NEXT, 1)
    img.desc(0x7100, 1, REG0 + 0x6001, 1, WRITE)
    img.avail([0, 1])
    s['indirect'] = virtq_seed(3, 3, 0, img)

    img = Image()       # a table and a buffer straddling the two regions
    t = 0x8000 - 24
    img.desc(t, 0, REG0 + 0x4000, 16, NEXT, 1)
    img.desc(t, 1, REG0 + 0x8000 - 100, 200, NEXT | WRITE, 2)
    img.desc(t, 2, REG0 + 0x6000, 1, WRITE)
    img.desc(DESC, 0, REG0 + t, 48, INDIRECT)
    img.desc(DESC, 1, 0x100000000, 64, NEXT, 2)    # the far region
    img.desc(DESC, 2, 0x100000000 + 4095, 1, WRITE)
    img.avail([0, 1])
    img.put(0x8000 + 64, b'\0')
    s['spanning'] = virtq_seed(3, 2, 0, img)

    img = Image()
    for h in range(8):
        blk_chain(img, DESC, 3 * h, 0x4000 + 32 * h, 0x5000 + 512 * h, 512, h & 1, 0x6000 + h)
    img.avail([0, 3, 6, 9, 12, 15, 18, 21], num=32)
    s['batch'] = virtq_seed(5, 1 | 4 | (3 << 3), 0, img)

    img = Image()
    img.desc(DESC, 0, REG0 + 0x4000, 16, NEXT, 1)
    img.desc(DESC, 1, REG0 + 0x4000, 16, NEXT, 0)
    img.avail([0])
    s['loop'] = virtq_seed(3, 3, 0, img)

    img = Image()
    blk_chain(img, DESC, 0, 0x4000, 0x5000, 512, True, 0x6000)
    img.avail([0], idx=100)
    s['avail-jump'] = virtq_seed(3, 3, 0, img)

    img = Image()
    blk_chain(img, DESC, 0, 0x4000, 0x5000, 512, True, 0x6000)
    img.avail([0, 0])
    s['same-head'] = virtq_seed(3, 7, 0xfffe, img)

    img = Image()       # one chain over the whole table
    for i in range(16):
        img.desc(DESC, i, REG0 + 0x4000 + i, 1, NEXT if i < 15 else WRITE, i + 1)
    img.avail([0])
    s['long-chain'] = virtq_seed(4, 0, 0, img)
    return s


# ---- blk-req: flags, capacity, counts, lengths, bytes --------------------
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13


def blk_len(n):
    return n if n < 128 else 0x80 | (n // 64)


def blk_seed(flags, cap, outs, ins):
    lens = [len(b) for b in outs + ins]
    return (struct.pack('<BQBB', flags, cap, len(outs), len(ins)) +
            bytes(blk_len(n) for n in lens) + b''.join(outs + ins))


def hdr(t, sector):
    return struct.pack('<IIQ', t, 0, sector)


def seg(sector, num, flags=0):
    return struct.pack('<QII', sector, num, flags)


def blk_req_seeds():
    s = {}
    st = b'\xff'
    s['read'] = blk_seed(7, 2048, [hdr(T_IN, 8)], [bytes(512), st])
    s['write'] = blk_seed(7, 2048, [hdr(T_OUT, 8), bytes(1024)], [st])
    s['flush'] = blk_seed(7, 2048, [hdr(T_FLUSH, 0)], [st])
    s['get-id'] = blk_seed(7, 2048, [hdr(T_GET_ID, 0)], [bytes(20), st])
    s['discard'] = blk_seed(7, 2048, [hdr(T_DISCARD, 0), seg(0, 8) + seg(64, 16)], [st])
    s['write-zeroes'] = blk_seed(7, 2048, [hdr(T_WZ, 0), seg(8, 8, 1)], [st])
    s['split-header'] = blk_seed(7, 2048, [bytes([b]) for b in hdr(T_IN, 16)],
                                 [bytes(64) for _ in range(8)] + [st])
    s['4k'] = blk_seed(15, 2048, [hdr(T_IN, 8)], [bytes(4096), st])
    s['read-only'] = blk_seed(1, 2048, [hdr(T_OUT, 0), bytes(512)], [st])
    s['beyond'] = blk_seed(7, 2048, [hdr(T_IN, 2047)], [bytes(1024), st])
    s['wrap'] = blk_seed(7, 2048, [hdr(T_DISCARD, 0), seg(2**64 - 8, 16)], [st])
    s['no-status'] = blk_seed(7, 2048, [hdr(T_OUT, 0), bytes(512)], [])
    return s


# ---- scsi-cdb: LU shape, then (CDB, parameter data) records --------------
RO, THIN, LBPRZ, LBS4K, WCE, WLUN, ABSENT, UA = 1, 2, 4, 8, 16, 2 << 5, 3 << 5, 128


def scsi_lu(flags, nblocks, pbs_shift=3, serial_len=8, nluns=2, pr_key=0, pr_type=0):
    return struct.pack('<BQBBBB', flags, nblocks, pbs_shift | (serial_len << 2),
                       nluns, pr_key, pr_type)


def scsi_cmd(cdb, param=b''):
    return bytes([len(cdb)]) + cdb + struct.pack('<H', len(param)) + param


def cdb10(op, b1, lba, n):
    return struct.pack('>BBIBHB', op, b1, lba, 0, n, 0)


def cdb16(op, b1, lba, n):
    return struct.pack('>BBQIBB', op, b1, lba, n, 0, 0)


def pr_out(sa, type_, key, sa_key):
    return scsi_cmd(struct.pack('>BBB2xIB', 0x5f, sa, type_, 24, 0),
                    struct.pack('>QQ8x', key, sa_key))


def scsi_cdb_seeds():
    s = {}
    std = THIN | LBPRZ | WCE
    inq = lambda evpd, page: scsi_cmd(struct.pack('>BBBHB', 0x12, evpd, page, 255, 0))
    s['inquiry'] = scsi_lu(std, 2048) + b''.join(
        inq(0, 0) + inq(1, p) for p in (0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2))
    s['read-write'] = scsi_lu(std, 2048) + (
        scsi_cmd(cdb10(0x28, 0, 2047, 1)) + scsi_cmd(cdb16(0x8a, 0x08, 2040, 8)) +
        scsi_cmd(struct.pack('>BBIIBB', 0xa8, 0, 0, 65537, 0, 0)) +
        scsi_cmd(bytes([0x0a, 0, 0x07, 0xff, 0, 0])) +
        scsi_cmd(cdb16(0x88, 0, 2**64 - 1, 2)))
    s['read-only'] = scsi_lu(RO, 4096) + (
        scsi_cmd(cdb10(0x2a, 0, 0, 1)) + scsi_cmd(cdb16(0x93, 0x08, 0, 8)) +
        scsi_cmd(cdb10(0x2e, 0, 0, 1)) + scsi_cmd(cdb10(0x28, 0, 0, 1)))
    unmap = struct.pack('>HH4x', 6 + 32, 32) + struct.pack('>QI4x', 0, 8) +         struct.pack('>QI4x', 64, 16)
    s['unmap'] = scsi_lu(std, 2048) + (
        scsi_cmd(struct.pack('>BB5xHB', 0x42, 0, len(unmap), 0), unmap) +
        scsi_cmd(struct.pack('>BB5xHB', 0x42, 0, 7, 0), unmap[:7]))
    s['write-same'] = scsi_lu(std | LBS4K, 1 << 20, 0) + (
        scsi_cmd(cdb10(0x41, 0, 16, 32), bytes(4096)) + scsi_cmd(cdb16(0x93, 0x09, 0, 1 << 22)) +
        scsi_cmd(cdb16(0x93, 0x08, 0, 0)))
    caching = bytes([0x08, 0x12, 0x00]) + bytes(17)
    s['mode'] = scsi_lu(std, 2048) + (
        scsi_cmd(bytes([0x1a, 0, 0x3f, 0, 255, 0])) +
        scsi_cmd(bytes([0x5a, 0x10, 0x48, 0, 0, 0, 0, 1, 0, 0])) +
        scsi_cmd(bytes([0x15, 0x10, 0, 0, 4 + 8 + 20, 0]),
                 bytes([0, 0, 0, 8]) + struct.pack('>II', 2048, 512) + caching) +
        scsi_cmd(bytes([0x55, 0x10, 0, 0, 0, 0, 0, 0, 28, 0]), bytes(8) + caching))
    s['pr'] = scsi_lu(std, 2048) + (
        pr_out(0, 0, 0, 0xab) + pr_out(1, 1, 0xab, 0) +
        scsi_cmd(bytes([0x5e, 1, 0, 0, 0, 0, 0, 0, 64, 0])) +
        pr_out(4, 7, 0xab, 0xab) + pr_out(2, 3, 0xab, 0) + pr_out(3, 0, 0xab, 0) +
        scsi_cmd(bytes([0x5e, 0, 0, 0, 0, 0, 0, 0, 64, 0])))
    s['capacity'] = scsi_lu(THIN, (1 << 33) + 5, 0, 0, 16) + (
        scsi_cmd(bytes([0x25]) + bytes(9)) +
        scsi_cmd(struct.pack('>BB8xIBB', 0x9e, 0x10, 32, 0, 0)) +
        scsi_cmd(struct.pack('>BBB3xIBB', 0xa0, 0, 0, 4096, 0, 0)))
    s['opcodes'] = scsi_lu(std, 2048) + (
        scsi_cmd(struct.pack('>BBBBHIBB', 0xa3, 0x0c, 0, 0, 0, 4096, 0, 0)) +
        scsi_cmd(struct.pack('>BBBBHIBB', 0xa3, 0x0c, 2, 0x9e, 0x10, 4096, 0, 0)) +
        scsi_cmd(struct.pack('>BBBBHIBB', 0xa3, 0x0c, 1, 0x42, 0, 4096, 0, 0)) +
        scsi_cmd(bytes([0x89]) + bytes(15)))
    s['verify-sync'] = scsi_lu(std, 2048) + (
        scsi_cmd(cdb10(0x2f, 0x02, 8, 4)) + scsi_cmd(cdb16(0x8f, 0x04, 0, 1)) +
        scsi_cmd(cdb10(0x35, 0, 0, 0)) + scsi_cmd(cdb16(0x91, 0, 2040, 9)))
    s['refused-fields'] = scsi_lu(std, 2048) + (
        scsi_cmd(cdb10(0x2e, 0x00, 8, 4), bytes(2048)) +
        scsi_cmd(cdb16(0x8e, 0x02, 8, 4), bytes(2048)) +
        scsi_cmd(cdb10(0x2e, 0x04, 8, 4)) + scsi_cmd(cdb16(0x8e, 0x06, 8, 4)) +
        scsi_cmd(cdb10(0x35, 0x02, 0, 0)) + scsi_cmd(cdb10(0x41, 0x04, 0, 8), bytes(512)) +
        scsi_cmd(cdb16(0x93, 0x02, 0, 8), bytes(512)) +
        scsi_cmd(struct.pack('>BBIBHB', 0x28, 0, 0, 0, 1, 0x04)) +
        scsi_cmd(bytes([0x1b, 0, 0, 0, 0x31, 0])) + scsi_cmd(bytes([0x1b, 0, 0, 0, 0xa0, 0])))
    s['unit-attention'] = scsi_lu(std | UA, 2048) + (
        scsi_cmd(bytes([0x12, 0, 0, 0, 96, 0])) + scsi_cmd(bytes(6)) +
        scsi_cmd(bytes([0x03, 0, 0, 0, 18, 0])) + scsi_cmd(bytes(6)))
    s['wlun'] = scsi_lu(WLUN, 2048) + (
        scsi_cmd(struct.pack('>BBB3xIBB', 0xa0, 0, 0, 4096, 0, 0)) +
        scsi_cmd(bytes([0x12, 0, 0, 0, 96, 0])) + scsi_cmd(bytes([0x03, 0, 0, 0, 18, 0])))
    s['absent'] = scsi_lu(ABSENT, 2048) + (
        scsi_cmd(bytes([0x12, 0, 0, 0, 96, 0])) + scsi_cmd(bytes(6)) +
        scsi_cmd(bytes([0x03, 0, 0, 0, 18, 0])))
    return s


# ---- ctl: flags u8 (bit 0: scsi), then request lines -----------------------
def ctl_seeds():
    def req(method, params=None, rid=1):
        r = '{"jsonrpc":"2.0","id":%s,"method":"%s"' % (rid, method)
        if params is not None:
            r += ',"params":' + params
        return (r + '}\n').encode()

    blk, scsi = b'\x00', b'\x01'
    return {
        'blk-all': blk + req('info') + req('stats') +
        req('stats', '{"format":"prometheus"}') + req('rescan', '{}') +
        req('iotune') + req('iotune', '{"set":{"total_iops_sec":"100","read_bytes_sec":5000}}'),
        'scsi-all': scsi + req('info', rid='"a"') + req('stats') +
        req('stats', '{"format":"prometheus"}') + req('iotune', '{"lun":3}') +
        req('iotune', '{"lun":0,"set":{"read_iops_sec":10,"read_iops_sec_max":20}}') +
        req('iotune', '{"set":{"total_iops_sec":1}}'),
        'errors': blk + b'{bad\n[]\n{"jsonrpc":"1.0","id":1,"method":"info"}\n' +
        req('nope') + req('stats', '{"x":1}') +
        req('iotune', '{"set":{"total_iops_sec":1.5,"x":-1}}') +
        b'{"jsonrpc":"2.0","method":"rescan"}\n' + b'[' * 40 + b'\n',
        'strings': blk + b'{"jsonrpc":"2.0","id":"\\ud83d\\ude00\\u00e9\\n","method":"in\\u0066o"}\n' +
        b'{"jsonrpc":"2.0","id":1,"method":"\xc3\xa9"}\n',
        'long': blk + b' ' * 66000 + b'\n' + req('info'),
    }


def main():
    write('vu-msg', vu_msg_seeds())
    write('virtq', virtq_seeds())
    write('blk-req', blk_req_seeds())
    write('scsi-cdb', scsi_cdb_seeds())
    write('ctl', ctl_seeds())
    return 0


if __name__ == '__main__':
    sys.exit(main())
