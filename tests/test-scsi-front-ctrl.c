// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-front-ctrl.c: vhost-uring-scsi's control and event queues and
 * what it does around the commands, through the project's own front end,
 * with no VM: feature negotiation, task management functions racing large
 * reads (and COMPARE AND WRITE across queues), asynchronous notification,
 * the event queue, malformed requests and QEMU's default queue count.  The
 * engine comes from $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_scsi.h>

#include "scsi-front.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define NREADS		24	/* 1 MiB reads racing a TMF */
#define READ_BLOCKS	2048
#define TMF_ROUNDS	16
#define READ_AREA	(32u << 20)	/* where they read; other cases stay below */

static uint8_t *big;	/* NREADS MiB of guest memory for the racing reads */

/* ---- negotiation ------------------------------------------------------- */

static void test_negotiation(struct daemon *d)
{
	uint64_t offered = BIT_ULL(VIRTIO_F_VERSION_1) |
			   BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
			   BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |
			   BIT_ULL(VIRTIO_SCSI_F_CHANGE) |
			   BIT_ULL(VIRTIO_SCSI_F_HOTPLUG);
	uint64_t never = BIT_ULL(VIRTIO_F_RING_PACKED) |
			 BIT_ULL(VIRTIO_SCSI_F_INOUT) |
			 BIT_ULL(VIRTIO_SCSI_F_T10_PI);
	struct verdict v = { { 0 } };
	struct front f;
	uint64_t feats = 0, pf = BIT_ULL(VU_PF_REPLY_ACK) | BIT_ULL(VU_PF_MQ);
	uint64_t bad, nq = 0;
	long mark = daemon_log_mark(d);
	int ret;

	ret = front_connect(&f, d->sock, 5000);
	verdict_check(&v, ret == 0, "connect: %s", strerror(-ret));
	f.timeout_ms = 5000;
	ret = front_get_u64(&f, VU_GET_FEATURES, &feats);
	verdict_check(&v, ret == 0 && (feats & offered) == offered,
		      "features 0x%llx lack VERSION_1, EVENT_IDX, INDIRECT_DESC, SCSI_F_CHANGE or SCSI_F_HOTPLUG",
		      (unsigned long long)feats);
	verdict_check(&v, !(feats & never),
		      "features 0x%llx offer PACKED, INOUT or T10_PI",
		      (unsigned long long)feats);
	ret = front_get_u64(&f, VU_GET_PROTOCOL_FEATURES, &f.protocol_features);
	verdict_check(&v, ret == 0 && (f.protocol_features & pf) == pf,
		      "protocol features 0x%llx lack REPLY_ACK or MQ",
		      (unsigned long long)f.protocol_features);
	f.pf_acked = pf;
	/* Flags 1: protocol version 1, no reply wanted. */
	front_send(&f, VU_SET_PROTOCOL_FEATURES, 1, &pf, sizeof(pf), NULL, 0);
	ret = front_get_u64(&f, VU_GET_QUEUE_NUM, &nq);
	verdict_check(&v, ret == 0 && nq == 4,
		      "GET_QUEUE_NUM says %llu, not 2 + --num-queues = 4",
		      (unsigned long long)nq);
	front_send(&f, VU_SET_OWNER, 1, NULL, 0, NULL, 0);
	for (unsigned int b = 0; b < 64; b++) {
		if (!(never & BIT_ULL(b)))
			continue;
		bad = (feats & offered) | BIT_ULL(b);
		ret = front_request(&f, VU_SET_FEATURES, &bad, sizeof(bad), NULL, 0);
		verdict_check(&v, ret == -EIO,
			      "SET_FEATURES with never-offered bit %u: %d, not refused",
			      b, ret);
	}
	verdict_check(&v, daemon_log_count(d, mark, "never offered") >= 3,
		      "no \"never offered\" log line per refusal");
	bad = feats & offered;
	ret = front_request(&f, VU_SET_FEATURES, &bad, sizeof(bad), NULL, 0);
	verdict_check(&v, ret == 0, "SET_FEATURES with offered bits refused: %d", ret);
	front_close(&f);
	if (!ok(!v.fail[0], "negotiation: offered VERSION_1/EVENT_IDX/INDIRECT_DESC/CHANGE/HOTPLUG, never PACKED/INOUT/T10_PI; each never-offered bit refused"))
		tap_diag("%s", v.fail);
}

/* ---- task management --------------------------------------------------- */

static uint16_t used_idx(struct scsic *c, unsigned int vq)
{
	return le16toh(__atomic_load_n(&c->f.vqs[vq].used->idx, __ATOMIC_ACQUIRE));
}

/*
 * Queue NREADS 1 MiB reads of LUN A and, behind them on the same queue,
 * REPORT LUNS through the W-LUN: once that is answered the device has taken
 * every read.  Returns the reads already complete by then, or -1.
 */
static int start_reads(struct scsic *c, bool *seen)
{
	uint8_t cdb[12];
	unsigned int done = 0;
	uint32_t len;
	uintptr_t slot;

	memset(seen, 0, (NREADS + 1) * sizeof(*seen));
	for (unsigned int i = 0; i < NREADS; i++) {
		cdb10(cdb, 0x28, 0, READ_AREA / LBS + i * READ_BLOCKS, READ_BLOCKS);
		if (scsic_submit(c, c->rq, i, lun_a, cdb, 10, NULL, 0,
				 big + ((size_t)i << 20), READ_BLOCKS * LBS) < 0)
			return -1;
	}
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0xa0;
	put32(cdb + 6, 256);
	if (scsic_submit(c, c->rq, NREADS, wlun_short, cdb, 12, NULL, 0, c->din, 256) < 0)
		return -1;
	scsic_kick(c, REQ_VQ(c));
	while (!seen[NREADS]) {
		if (scsic_reap(c, REQ_VQ(c), 5000, &slot, &len) != 1 ||
		    slot > NREADS || seen[slot])
			return -1;
		seen[slot] = true;
		done += slot < NREADS;
	}
	return (int)done;
}

/* Reap what is left of the reads; check each answered GOOD with the data. */
static void finish_reads(struct verdict *v, struct scsic *c, bool *seen,
			 const uint8_t *want)
{
	unsigned int left = 0;
	struct scsic_res r;
	uint32_t len;
	uintptr_t slot;

	for (unsigned int i = 0; i < NREADS; i++)
		left += !seen[i];
	while (left--) {
		if (!verdict_check(v, scsic_reap(c, REQ_VQ(c), 5000, &slot, &len) == 1 &&
				   slot < NREADS && !seen[slot],
				   "a read never completed, or twice"))
			return;
		seen[slot] = true;
	}
	for (unsigned int i = 0; i < NREADS; i++) {
		scsic_result(c, i, 0, &r);
		if (r.response == VIRTIO_SCSI_S_ABORTED ||
		    r.response == VIRTIO_SCSI_S_RESET)
			continue;
		verdict_check(v, r.response == VIRTIO_SCSI_S_OK && r.status == GOOD &&
			      !memcmp(big + ((size_t)i << 20), want + ((size_t)i << 20),
				      READ_BLOCKS * LBS),
			      "read %u: response %u status %u or wrong data", i,
			      r.response, r.status);
	}
}

/*
 * Wait for the control queue's used index by spinning (5 s at most), so
 * that a TMF made visible before the commands it waited for is caught in
 * the act.
 */
static bool spin_for_tmf(struct scsic *c, uint16_t ctrl_before)
{
	long end = now_ms() + 5000;

	for (unsigned long i = 1; used_idx(c, SCSIC_CTRL_VQ) == ctrl_before; i++) {
		if (!(i & 0xffff) && now_ms() > end)
			return false;
	}
	return true;
}

/*
 * One round: NREADS reads, the TMF once the device holds them all, then
 * the checks.  Returns the reads that were complete before the TMF went.
 */
static int tmf_round(struct verdict *v, struct scsic *c, uint32_t subtype,
		     uint16_t ua, const uint8_t *want)
{
	bool seen[NREADS + 1];
	uint16_t req_before = c->f.vqs[REQ_VQ(c)].last_used;
	uint16_t ctrl_before = used_idx(c, SCSIC_CTRL_VQ), req_at_tmf;
	unsigned int unanswered = 0;
	struct scsic_res r;
	uint32_t len;
	uintptr_t ck;
	int early, ret;

	early = start_reads(c, seen);
	if (!verdict_check(v, early >= 0, "the reads could not be queued or reaped"))
		return -1;
	/* Ask for a call: the daemon's eventfd write widens the window. */
	fvq_enable_cb(&c->f.vqs[SCSIC_CTRL_VQ]);
	ret = scsic_tmf_submit(c, subtype, lun_a, 0);
	verdict_check(v, ret == 0, "TMF not queued: %d", ret);
	verdict_check(v, spin_for_tmf(c, ctrl_before), "the TMF never completed");
	req_at_tmf = used_idx(c, REQ_VQ(c));
	for (unsigned int i = 0; i < NREADS; i++)
		unanswered += c->resp[i].response == 0xff;
	/*
	 * The affected commands must be visible before the TMF's answer.
	 * (This test found the control queue's used index published before
	 * the request queue's, with every read already answered.)
	 */
	verdict_check(v, (uint16_t)(req_at_tmf - req_before) == NREADS + 1 &&
		      unanswered == 0,
		      "when the TMF's answer was visible, %u of %u commands were in the used ring (%u reads not yet answered)",
		      (uint16_t)(req_at_tmf - req_before), NREADS + 1, unanswered);
	ret = scsic_reap(c, SCSIC_CTRL_VQ, 1000, &ck, &len);
	verdict_check(v, ret == 1 && ck == SCSIC_TMF_COOKIE && len == 1 &&
		      c->ctrl_resp[0] == 0,
		      "TMF answer: reaped %d, used %u, response %u (want FUNCTION_COMPLETE)",
		      ret, len, c->ctrl_resp[0]);
	finish_reads(v, c, seen, want);
	ret = tur(c, lun_a, &r);
	if (ua)
		verdict_check(v, check_cond(ret, &r, KEY_UA, ua),
			      "next command: response %u status %u key 0x%x asc 0x%04x, not UNIT ATTENTION %04x",
			      r.response, r.status, sense_key(&r), sense_asc(&r), ua);
	ret = tur(c, lun_a, &r);
	verdict_check(v, good(ret, &r), "then TEST UNIT READY: status %u key 0x%x asc 0x%04x",
		      r.status, sense_key(&r), sense_asc(&r));
	tur(c, lun_b, &r);	/* I_T nexus reset leaves one on LUN B too */
	return early;
}

/*
 * A TMF issued while 1 MiB reads are in flight, TMF_ROUNDS times: its
 * response must become visible only after every affected command's (the
 * request queue's used index already counts them all when the TMF's
 * appears), then the next command gets the unit attention the TMF leaves
 * (ua; 0 for none, as for ABORT TASK SET).
 */
static void test_tmf_in_flight(struct scsic *c, uint32_t subtype,
			       const char *name, uint16_t ua, const uint8_t *want)
{
	struct verdict v = { { 0 } };
	unsigned int busy = 0;

	for (unsigned int i = 0; i < TMF_ROUNDS; i++)
		busy += tmf_round(&v, c, subtype, ua, want) < NREADS;
	tap_diag("%s: %u of %d rounds had reads still running when the TMF was sent",
		 name, busy, TMF_ROUNDS);
	if (!ok(!v.fail[0], "%s during %d 1 MiB reads (%d rounds) completes after all of them%s",
		name, NREADS, TMF_ROUNDS, ua ? ", then a unit attention" : ""))
		tap_diag("%s", v.fail);
}

static void test_query_task_set(struct scsic *c, const uint8_t *want)
{
	struct verdict v = { { 0 } };
	bool seen[NREADS + 1];
	uint16_t req_before = c->f.vqs[REQ_VQ(c)].last_used;
	uint8_t resp = 0xff;
	int early, ret;

	ret = scsic_tmf(c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun_a, 0, &resp);
	verdict_check(&v, ret == 0 && resp == 0,
		      "idle: ret %d response %u, not FUNCTION_COMPLETE", ret, resp);
	early = start_reads(c, seen);
	verdict_check(&v, early >= 0, "the reads could not be queued or reaped");
	ret = scsic_tmf(c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun_a, 0, &resp);
	verdict_check(&v, ret == 0 && (resp == 0 ||
				       resp == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED),
		      "busy: ret %d response %u", ret, resp);
	/* Not one read done after its answer: they were all in flight. */
	if (early == 0 && (uint16_t)(used_idx(c, REQ_VQ(c)) - req_before) == 1)
		verdict_check(&v, resp == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED,
			      "with every read in flight: response %u, not FUNCTION_SUCCEEDED",
			      resp);
	if (early >= 0)
		finish_reads(&v, c, seen, want);
	tap_diag("QUERY_TASK_SET with reads in flight answered %u", resp);
	if (!ok(!v.fail[0], "QUERY_TASK_SET: FUNCTION_COMPLETE when idle, FUNCTION_SUCCEEDED with reads in flight"))
		tap_diag("%s", v.fail);
}

static void test_tmf_addressing(struct scsic *c)
{
	uint8_t r1 = 0xff, r2 = 0xff, r3 = 0xff;
	int ret1, ret2, ret3;

	ret1 = scsic_tmf(c, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun_absent, 0, &r1);
	ret2 = scsic_tmf(c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, lun_t1, 0, &r2);
	ret3 = scsic_tmf(c, VIRTIO_SCSI_T_TMF_ABORT_TASK, lun_a, 12345, &r3);
	if (!ok(ret1 == 0 && r1 == VIRTIO_SCSI_S_INCORRECT_LUN &&
		ret2 == 0 && r2 == VIRTIO_SCSI_S_BAD_TARGET &&
		ret3 == 0 && r3 == 0,
		"TMF to an absent LUN: INCORRECT_LUN; to target 1: BAD_TARGET; ABORT_TASK of no task: FUNCTION_COMPLETE"))
		tap_diag("absent: %d/%u, target 1: %d/%u, abort task: %d/%u",
			 ret1, r1, ret2, r2, ret3, r3);
}

static void test_an(struct scsic *c)
{
	struct virtio_scsi_ctrl_an_resp q, s;
	uint32_t lq = 0, ls = 0;
	int ret1, ret2;

	memset(&q, 0xff, sizeof(q));
	memset(&s, 0xff, sizeof(s));
	ret1 = scsic_an(c, VIRTIO_SCSI_T_AN_QUERY, lun_a, 0x7e, &q, &lq);
	ret2 = scsic_an(c, VIRTIO_SCSI_T_AN_SUBSCRIBE, lun_a, 0x7e, &s, &ls);
	if (!ok(ret1 == 0 && q.response == VIRTIO_SCSI_S_OK && q.event_actual == 0 &&
		lq == sizeof(q) && ret2 == 0 && s.response == VIRTIO_SCSI_S_OK &&
		s.event_actual == 0 && ls == sizeof(s),
		"AN_QUERY and AN_SUBSCRIBE: OK, event_actual 0, 5 bytes used"))
		tap_diag("query %d: response %u actual %u used %u; subscribe %d: response %u actual %u used %u",
			 ret1, q.response, q.event_actual, lq, ret2, s.response,
			 s.event_actual, ls);
}
/* ---- COMPARE AND WRITE across queues ------------------------------------ */

/*
 * COMPARE AND WRITE on one request queue while 1 MiB reads of the same LUN
 * run on the other (with 2 threads: another thread), a read and a write
 * queued behind it on the readers' queue; optionally ABORT TASK SET once it
 * waits.  Everything completes; the CAW is all or nothing; the read sees
 * the blocks before or after it, never a mix.
 */
static void caw_race(struct verdict *v, struct scsic *c, bool abort,
		     const uint8_t *want, unsigned int round)
{
	const uint32_t lba = 7100 + 16 * (round % 8), n = 8, len = n * LBS;
	const unsigned int crq = c->rq ^ 1, rd = NREADS, wr_slot = NREADS + 1,
			   caw_slot = NREADS + 2;
	uint8_t cdb[16], *old = c->dout + 2 * len, *new = c->dout + len;
	uint8_t *wdata = c->dout + 3 * len;
	struct scsic_res r;
	unsigned int left = NREADS + 2, cleft = 1;
	uint8_t tmf = 0xff;
	bool caw_done;
	uint32_t ulen;
	uintptr_t slot;

	pattern(old, len, 30 + round);
	pattern(new, len, 60 + round);
	pattern(wdata, len, 90 + round);
	memcpy(c->dout, old, len);
	host_pwrite(old, len, (off_t)lba * LBS);
	for (unsigned int i = 0; i < NREADS; i++) {
		cdb10(cdb, 0x28, 0, READ_AREA / LBS + i * READ_BLOCKS, READ_BLOCKS);
		scsic_submit(c, c->rq, i, lun_a, cdb, 10, NULL, 0,
			     big + ((size_t)i << 20), READ_BLOCKS * LBS);
	}
	scsic_kick(c, REQ_VQ(c));
	cdb_caw(cdb, lba, n);
	scsic_submit(c, crq, caw_slot, lun_a, cdb, 16, c->dout, 2 * len, NULL, 0);
	scsic_kick(c, SCSIC_REQ_VQ + crq);
	cdb10(cdb, 0x28, 0, lba, n);
	scsic_submit(c, c->rq, rd, lun_a, cdb, 10, NULL, 0, c->din, len);
	cdb10(cdb, 0x2a, 0, lba + 8, n);
	scsic_submit(c, c->rq, wr_slot, lun_a, cdb, 10, wdata, len, NULL, 0);
	scsic_kick(c, REQ_VQ(c));
	if (abort)
		verdict_check(v, scsic_tmf(c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET,
					   lun_a, 0, &tmf) == 0 && tmf == 0,
			      "round %u: ABORT TASK SET answered %u", round, tmf);
	for (long end = now_ms() + 10000; (left || cleft) && now_ms() < end;) {
		if (left && scsic_reap(c, REQ_VQ(c), 0, &slot, &ulen) == 1)
			left--;
		else if (cleft && scsic_reap(c, SCSIC_REQ_VQ + crq, 0, &slot, &ulen) == 1)
			cleft--;
		else
			usleep(1000);
	}
	if (!verdict_check(v, !left && !cleft,
			   "round %u: %u commands and %u CAW never completed",
			   round, left, cleft))
		return;
	for (unsigned int i = 0; i < NREADS + 3; i++) {
		scsic_result(c, i, 0, &r);
		if (abort && (r.response == VIRTIO_SCSI_S_ABORTED))
			continue;
		verdict_check(v, r.response == VIRTIO_SCSI_S_OK && r.status == GOOD,
			      "round %u: slot %u: response %u status %u key 0x%x asc 0x%04x",
			      round, i, r.response, r.status, sense_key(&r), sense_asc(&r));
		if (i < NREADS)
			verdict_check(v, !memcmp(big + ((size_t)i << 20),
						 want + ((size_t)i << 20), READ_BLOCKS * LBS),
				      "round %u: read %u returned the wrong data", round, i);
	}
	scsic_result(c, caw_slot, 0, &r);
	caw_done = r.response == VIRTIO_SCSI_S_OK;
	verdict_check(v, host_is(caw_done ? new : old, len, (off_t)lba * LBS),
		      "round %u: the image holds neither the blocks before the CAW nor after (CAW response %u)",
		      round, r.response);
	scsic_result(c, rd, 0, &r);
	if (r.response == VIRTIO_SCSI_S_OK)
		verdict_check(v, !memcmp(c->din, old, len) ||
			      (caw_done && !memcmp(c->din, new, len)),
			      "round %u: the read behind the CAW saw a mix", round);
	scsic_result(c, wr_slot, 0, &r);
	if (r.response == VIRTIO_SCSI_S_OK)
		verdict_check(v, host_is(wdata, len, (off_t)(lba + 8) * LBS),
			      "round %u: the write behind the CAW is not in the image",
			      round);
}

static void test_caw_race(struct scsic *c, const uint8_t *want, bool abort)
{
	struct verdict v = { { 0 } };
	struct scsic_res r;

	for (unsigned int i = 0; i < TMF_ROUNDS && !v.fail[0]; i++) {
		caw_race(&v, c, abort, want, i);
		tur(c, lun_a, &r);
	}
	if (!ok(!v.fail[0], "COMPARE AND WRITE on the other queue during 1 MiB reads, a read and a write behind it%s (%d rounds): all complete, the CAW all or nothing",
		abort ? ", ABORT TASK SET" : "", TMF_ROUNDS))
		tap_diag("%s", v.fail);
}

/* ---- event queue -------------------------------------------------------- */

static void test_events(struct daemon *d)
{
	struct verdict v = { { 0 } };
	long mark = daemon_log_mark(d);
	struct scsic c;
	bool got[4] = { false };
	uint16_t base = 0xffff;
	uintptr_t i;
	uint32_t len;
	int ret;

	ret = open_client(&c, d);
	verdict_check(&v, ret == 0, "connect: %s", strerror(-ret));
	ret = scsic_post_events(&c, 4);
	verdict_check(&v, ret == 0, "posting event buffers: %d", ret);
	ret = scsic_reap(&c, SCSIC_EVENT_VQ, 300, &i, &len);
	verdict_check(&v, ret == 0, "event buffer %lu came back with no event to give (used %u, event 0x%x)",
		      (unsigned long)i, len, ret == 1 ? le32toh(c.ev[i].event) : 0);
	ret = front_vq_stop(&c.f, SCSIC_EVENT_VQ, &base);
	verdict_check(&v, ret == 0 && base == 4,
		      "GET_VRING_BASE of the event queue: %d, base %u", ret, base);
	for (unsigned int n = 0; n < 4; n++) {
		ret = scsic_reap(&c, SCSIC_EVENT_VQ, 1000, &i, &len);
		if (!verdict_check(&v, ret == 1 && i < 4 && !got[i],
				   "event buffer %u of 4 not given back (%d)", n, ret))
			break;
		got[i] = true;
		verdict_check(&v, len == sizeof(c.ev[i]) &&
			      le32toh(c.ev[i].event) == VIRTIO_SCSI_T_NO_EVENT,
			      "event buffer %lu back with used %u, event 0x%x",
			      (unsigned long)i, len, le32toh(c.ev[i].event));
	}
	scsic_close(&c);
	verdict_check(&v, daemon_alive(d), "the daemon died");
	if (!ok(!v.fail[0], "4 event buffers held, then all given back as NO_EVENT by GET_VRING_BASE")) {
		tap_diag("%s", v.fail);
		daemon_log_diag(d, mark);
	}
}

/* ---- malformed requests ------------------------------------------------- */

static void test_no_resp_header(struct daemon *d)
{
	struct verdict v = { { 0 } };
	long mark = daemon_log_mark(d);
	struct virtio_scsi_cmd_req rq;
	struct front_buf bufs[2];
	struct scsic c;
	int ret;

	ret = open_client(&c, d);
	verdict_check(&v, ret == 0, "connect: %s", strerror(-ret));
	memset(&rq, 0, sizeof(rq));
	memcpy(rq.lun, lun_a, 8);
	rq.cdb[0] = 0x12;
	rq.cdb[4] = 36;
	memcpy(c.dout, &rq, sizeof(rq));
	bufs[0] = (struct front_buf){ front_gpa(&c.f, c.dout), sizeof(rq), false };
	bufs[1] = (struct front_buf){ front_gpa(&c.f, c.din), SCSIC_RESP_SIZE, false };
	ret = fvq_add(&c.f.vqs[REQ_VQ(&c)], bufs, 2, NULL);
	scsic_kick(&c, REQ_VQ(&c));
	ret = fvq_wait_err(&c.f.vqs[REQ_VQ(&c)], 3000);
	verdict_check(&v, ret == 1, "the error eventfd was not signalled (%d)", ret);
	verdict_check(&v, daemon_log_count(d, mark, "response header") >= 1,
		      "no log line about the response header");
	scsic_close(&c);
	verdict_check(&v, daemon_alive(d), "the daemon died");
	verdict_check(&v, scsi_serves(d, 10000), "a new connection is not served");
	if (!ok(!v.fail[0], "a request with no writable response header breaks its queue (error fd); a new connection is served"))
		tap_diag("%s", v.fail);
}

static void test_bad_ctrl(struct daemon *d)
{
	struct verdict v = { { 0 } };
	struct virtio_scsi_ctrl_tmf_req t;
	struct front_buf bufs[2];
	struct scsic c;
	uint32_t used = 0xdead, type = htole32(99);
	uint8_t resp = 0xff;
	int ret;

	ret = open_client(&c, d);
	verdict_check(&v, ret == 0, "connect: %s", strerror(-ret));
	/* Two bytes: shorter than the type field. */
	memset(c.ctrl_req, 0, 64);
	bufs[0] = (struct front_buf){ front_gpa(&c.f, c.ctrl_req), 2, false };
	bufs[1] = (struct front_buf){ front_gpa(&c.f, c.ctrl_resp), 1, true };
	ret = scsic_run(&c, SCSIC_CTRL_VQ, bufs, 2, &used);
	verdict_check(&v, ret == 0 && used == 0, "2-byte control request: %d, used %u",
		      ret, used);
	/* A TMF cut short, then one with no room for its answer. */
	memset(&t, 0, sizeof(t));
	t.type = htole32(VIRTIO_SCSI_T_TMF);
	t.subtype = htole32(VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET);
	memcpy(t.lun, lun_a, 8);
	memcpy(c.ctrl_req, &t, sizeof(t));
	bufs[0].len = 12;
	ret = scsic_run(&c, SCSIC_CTRL_VQ, bufs, 2, &used);
	verdict_check(&v, ret == 0 && used == 0, "12-byte TMF: %d, used %u", ret, used);
	bufs[0].len = sizeof(t);
	ret = scsic_run(&c, SCSIC_CTRL_VQ, bufs, 1, &used);
	verdict_check(&v, ret == 0 && used == 0, "TMF without a response: %d, used %u",
		      ret, used);
	/* An unknown type. */
	memcpy(c.ctrl_req, &type, 4);
	bufs[0].len = 32;
	ret = scsic_run(&c, SCSIC_CTRL_VQ, bufs, 2, &used);
	verdict_check(&v, ret == 0 && used == 0, "type 99: %d, used %u", ret, used);
	/* The control queue still answers a good TMF. */
	ret = scsic_tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun_a, 0, &resp);
	verdict_check(&v, ret == 0 && resp == 0, "then QUERY_TASK_SET: %d, %u",
		      ret, resp);
	scsic_close(&c);
	verdict_check(&v, daemon_alive(d), "the daemon died");
	if (!ok(!v.fail[0], "malformed control requests come back with nothing written; the control queue carries on"))
		tap_diag("%s", v.fail);
}

/* ---- QEMU's default queue count ------------------------------------------ */

/*
 * Start a daemon with args, connect as a 2-vCPU QEMU whose device sets no
 * num_queues (2 request queues), and write and read back a block on each.
 * Returns GET_QUEUE_NUM's answer (0 on failure); threads and RSS (KiB) are
 * measured after the I/O.
 */
static uint64_t two_vcpu_guest(const char *what, const char *const *args,
			       long *threads, long *rss)
{
	struct scsic_res r;
	struct daemon d;
	struct scsic c;
	uint64_t nq = 0;
	uint8_t want[4096];
	int ret;

	ret = daemon_start_bin(&d, scsi_daemon_binary(), args);
	if (!ok(ret == 0, "%s: the daemon starts", what))
		return 0;
	ret = scsic_open(&c, d.sock, 2, ~0ull);
	if (ok(ret == 0, "%s: a front end starts 2 request queues (%s)", what,
	       strerror(-ret))) {
		nq = c.f.max_queues;
		tur(&c, lun_a, &r);
		for (unsigned int q = 0; q < 2; q++) {
			bool same;

			c.rq = q;
			pattern(want, sizeof(want), 4000 + q);
			memcpy(c.dout, want, sizeof(want));
			same = good(rw10(&c, lun_a, 0x2a, 0, 4000 + 8 * q, 8, 4096, &r), &r);
			memset(c.din, 0, sizeof(want));
			same = same &&
			       good(rw10(&c, lun_a, 0x28, 0, 4000 + 8 * q, 8, 4096, &r), &r) &&
			       !memcmp(c.din, want, sizeof(want));
			ok(same, "%s: request queue %u writes and reads back a block", what, q);
		}
		*threads = daemon_thread_count(&d);
		*rss = daemon_rss_kib(&d);
	}
	scsic_close(&c);
	ok(daemon_stop(&d) == 0, "%s: the daemon exits 0 on SIGTERM", what);
	return nq;
}

static void test_default_queues(void)
{
	const char *dflt[] = { lun_a_arg, env.aio_arg, NULL };
	const char *two[] = { lun_a_arg, env.aio_arg, "--num-queues=2", NULL };
	long t_dflt = -1, t_two = -1, rss_dflt = -1, rss_two = -1;
	uint64_t nq;

	nq = two_vcpu_guest("defaults", dflt, &t_dflt, &rss_dflt);
	ok(nq == 256, "defaults: GET_QUEUE_NUM says %llu: 254 request queues, the control and the event queue",
	   (unsigned long long)nq);
	nq = two_vcpu_guest("--num-queues=2", two, &t_two, &rss_two);
	ok(nq == 4, "--num-queues=2: GET_QUEUE_NUM says %llu: 2 request queues and 2 others",
	   (unsigned long long)nq);
	ok(t_dflt > 0 && t_dflt == t_two,
	   "the 252 queues never started cost no thread (%ld threads, %ld with --num-queues=2)",
	   t_dflt, t_two);
	/* Their slots, and a completion ring sized for them (1 MiB at most). */
	ok(rss_dflt > 0 && rss_two > 0 && rss_dflt - rss_two < 1536,
	   "the 252 queues never started cost under 1.5 MiB (RSS %ld KiB, %ld KiB with --num-queues=2)",
	   rss_dflt, rss_two);
}

/* ---- main ---------------------------------------------------------------- */

/* The data the racing reads return, written on the host beforehand. */
static uint8_t *setup_read_area(void)
{
	size_t len = (size_t)NREADS << 20;
	uint8_t *want = malloc(len);

	if (!want)
		exit(99);
	pattern(want, len, 9);
	host_pwrite(want, len, READ_AREA);
	return want;
}

static void run_cases(struct scsic *c, const uint8_t *want)
{
	struct scsic_res r;

	/* The power-on unit attentions, which test-scsi-front-cmd checks. */
	tur(c, lun_a, &r);
	tur(c, lun_b, &r);
	test_tmf_in_flight(c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET,
			   "ABORT_TASK_SET", 0, want);
	test_tmf_in_flight(c, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET,
			   "LOGICAL_UNIT_RESET", 0x2903, want);
	test_tmf_in_flight(c, VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET,
			   "I_T_NEXUS_RESET", 0x2907, want);
	test_query_task_set(c, want);
	test_tmf_addressing(c);
	test_an(c);
	test_caw_race(c, want, false);
	test_caw_race(c, want, true);
}

int main(void)
{
	struct daemon d;
	struct scsic c;
	uint8_t *want;
	int ret;

	if (!scsi_front_init())
		return 0;
	want = setup_read_area();
	if (!scsi_front_start(&d)) {
		free(want);
		harness_cleanup();
		return tap_done();
	}
	/* The daemon serves one front end at a time. */
	test_negotiation(&d);
	ret = open_client(&c, &d);
	big = ret == 0 ? front_alloc(&c.f, (size_t)NREADS << 20, 4096, NULL) : NULL;
	if (ok(ret == 0 && big, "connect: control, event and 2 request queues (%s)",
	       strerror(-ret)))
		run_cases(&c, want);
	scsic_close(&c);
	test_events(&d);
	test_no_resp_header(&d);
	test_bad_ctrl(&d);
	scsi_front_stop(&d);
	test_default_queues();
	free(want);
	harness_cleanup();
	return tap_done();
}
