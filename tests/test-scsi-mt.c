// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-mt.c: vhost-uring-scsi's task management and COMPARE AND WRITE
 * across I/O threads, with the interleavings made from the outside: LUN 0
 * lives on tests/fuse-faulty's disk.img, whose gate holds the reads of a
 * byte range in flight until the test releases them.  So a command stays
 * in io_uring (or libaio) for exactly as long as a case needs, with no
 * sleep in the daemon and no assumption about its speed; timeouts are only
 * hang detectors.  The cases check the order in which the driver sees the
 * answers, that every command is answered exactly once, and that a paused
 * vhost-user message and SIGTERM are never held up by I/O they need not
 * wait for.
 *
 * $TEST_AIO picks the engine (default io_uring), $TEST_SCSI_THREADS the
 * I/O threads (1 or 2, default 2); with 2, request queue 0 (vq 2) is on
 * thread 0 with the control queue and request queue 1 (vq 3) on thread 1
 * with the event queue.  fuse-faulty comes from $FUSE_FAULTY.
 *
 * The driver side the cases share (commands on chosen slots and queues,
 * control requests, the order of the answers) is in scsi-mt-driver.c.
 */
#include <endian.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_scsi.h>

#include "ffs.h"
#include "harness.h"
#include "scsi-mt-driver.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define IMG_SIZE	(16u << 20)

static struct test_env env;
static unsigned int nthreads = 2;

/* ---- the daemon ------------------------------------------------------------- */

static int start(struct daemon *d)
{
	static char lun_arg[400], threads_arg[32];
	const char *args[] = { lun_arg, env.aio_arg, "--num-queues=2",
			       threads_arg, NULL };

	snprintf(lun_arg, sizeof(lun_arg), "--lun=0,file=%s", fmnt.img);
	snprintf(threads_arg, sizeof(threads_arg), "--num-threads=%u", nthreads);
	return daemon_start_bin(d, scsi_daemon_binary(), args);
}

/*
 * A TMF waits for the commands the LUN had before it, not for those that
 * come after: with a read it must wait for held, an ABORT TASK that finds
 * nothing is answered once that read is, while a read sent after it is
 * still held.  (It used to wait for the LUN to be idle, so for the later
 * read too, and for ever under continuous I/O.)
 */
static void test_tmf_not_held_by_later(struct scsic *c)
{
	const uint64_t o1 = OFF_CASE(1), o2 = OFF_CASE(1) + (64u << 10);
	const uint64_t holds[] = { o1, o2 };
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	const uintptr_t first[] = { 1, TMF_CK(0) }, second[] = { 2 };

	hold_read_then_tmf(c, &v, &s, o1);
	verdict_check(&v, !s.rank[TMF_CK(0)], "the TMF was answered while a read before it was held");
	gate_hold(&fmnt, o2, HOLD_LEN);
	submit_read(c, RQ_OTHER, 2, o2);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_OTHER);
	verdict_check(&v, gate_wait_held(&fmnt, o2, WAIT_MS), "the second read never reached the file");
	gate_release(&fmnt, o1);
	verdict_check(&v, reap_until(c, &s, first, 2, WAIT_MS),
		      "the TMF was not answered while a read sent after it was held");
	verdict_check(&v, (s.answered_at[0] & BIT(1)) && !(s.answered_at[0] & BIT(2)) &&
		      response(c, 2) == 0xff && gate_waiting(&fmnt, o2) == 1,
		      "when the TMF's answer was seen: first read done %d, second %d (response %u, held %d)",
		      !!(s.answered_at[0] & BIT(1)), !!(s.answered_at[0] & BIT(2)),
		      response(c, 2), gate_waiting(&fmnt, o2));
	verdict_check(&v, ctrl_answer(0, 0), "TMF response %u, not FUNCTION COMPLETE",
		      ctrl_resp[0][0]);
	gate_release(&fmnt, o2);
	verdict_check(&v, reap_until(c, &s, second, 1, WAIT_MS), "the second read never completed");
	verdict_check(&v, response(c, 1) == VIRTIO_SCSI_S_OK && response(c, 2) == VIRTIO_SCSI_S_OK,
		      "reads answered %u and %u", response(c, 1), response(c, 2));
	verdict_check(&v, !s.twice && !s.bad, "a used id came back twice, or one never posted");
	if (!ok(!v.fail[0], "a TMF is answered after the read before it, while a read sent after it is still in flight"))
		tap_diag("%s", v.fail);
	settle(c, &s, holds, ARRAY_SIZE(holds));
}

/*
 * ABORT TASK of a COMPARE AND WRITE that waits (thread 1) behind a held
 * read, then a COMPARE AND WRITE from the other queue (thread 0) that waits
 * behind the same read; the read is let go.  The aborted one is answered
 * ABORTED and writes nothing, the second one runs, the TMF is answered
 * after both the read and the aborted one.  (An aborted COMPARE AND WRITE
 * was handed over in the slot the second one's hand-off then overwrote,
 * when its thread was late: it was never answered, nor its TMF, and the
 * next pause hung.)
 */
static void test_abort_waiting_caw(struct scsic *c, unsigned int round)
{
	const uint64_t oh = OFF_CASE(2) + round * (64u << 10);
	const uint64_t ca = OFF_CASE(3) + round * (16u << 10), cb = ca + (8u << 10);
	const uint64_t holds[] = { oh };
	uint8_t olda[IO_BLOCKS * LBS], newa[IO_BLOCKS * LBS];
	uint8_t oldb[IO_BLOCKS * LBS], newb[IO_BLOCKS * LBS];
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	const uintptr_t took_tmf[] = { TMF_CK(1) },
			took_b[] = { 5 }, all[] = { 1, 2, 4, TMF_CK(0) };
	struct scsic_res r;

	pattern(olda, sizeof(olda), 10 + round);
	pattern(newa, sizeof(newa), 20 + round);
	pattern(oldb, sizeof(oldb), 30 + round);
	pattern(newb, sizeof(newb), 40 + round);
	host_write(ca, olda, sizeof(olda));
	host_write(cb, oldb, sizeof(oldb));
	verdict_check(&v, read_caw_marker(c, &s, RQ_OTHER, oh, ca, olda, newa),
		      "the read and the COMPARE AND WRITE behind it were not taken");
	submit_tmf(c, 0, VIRTIO_SCSI_T_TMF_ABORT_TASK, 2);
	submit_an(c, 1);
	scsic_kick(c, SCSIC_CTRL_VQ);
	verdict_check(&v, reap_until(c, &s, took_tmf, 1, WAIT_MS), "the TMF was not taken");
	submit_caw(c, RQ_CTRL, 4, cb, oldb, newb);
	submit_marker(c, RQ_CTRL, 5);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_CTRL);
	verdict_check(&v, reap_until(c, &s, took_b, 1, WAIT_MS),
		      "the second COMPARE AND WRITE was not taken");
	gate_release(&fmnt, oh);
	verdict_check(&v, reap_until(c, &s, all, ARRAY_SIZE(all), WAIT_MS),
		      "round %u: never answered: read %d, aborted CAW %d, second CAW %d, TMF %d",
		      round, !s.rank[1], !s.rank[2], !s.rank[4], !s.rank[TMF_CK(0)]);
	verdict_check(&v, response(c, 2) == VIRTIO_SCSI_S_ABORTED && host_holds(ca, olda, sizeof(olda)),
		      "the aborted COMPARE AND WRITE: response %u, or it wrote", response(c, 2));
	scsic_result(c, 4, 0, &r);
	verdict_check(&v, r.response == VIRTIO_SCSI_S_OK && r.status == 0 &&
		      host_holds(cb, newb, sizeof(newb)),
		      "the second COMPARE AND WRITE: response %u status %u, or not written",
		      r.response, r.status);
	verdict_check(&v, ctrl_answer(0, 0) && (s.answered_at[0] & (BIT(1) | BIT(2))) == (BIT(1) | BIT(2)),
		      "TMF response %u; read and aborted CAW seen before it: %d %d",
		      ctrl_resp[0][0], !!(s.answered_at[0] & BIT(1)), !!(s.answered_at[0] & BIT(2)));
	verdict_check(&v, !s.twice && !s.bad, "a used id came back twice, or one never posted");
	if (!ok(!v.fail[0], "round %u: ABORT TASK of a waiting COMPARE AND WRITE, another one from the other queue behind the same read: aborted, run, TMF last",
		round))
		tap_diag("%s", v.fail);
	settle(c, &s, holds, ARRAY_SIZE(holds));
}

/*
 * Commands of the other thread wait behind a COMPARE AND WRITE that waits
 * behind a held read; a TMF comes; the read is let go, the CAW runs, the
 * waiting read runs and is held in turn.  ABORT TASK (of nothing) must
 * wait for that read too: it was the LUN's before the TMF.  ABORT TASK SET
 * aborts both waiting commands and is answered after them.  (A waiting
 * command run again was, for a moment, counted nowhere: a TMF then saw
 * the LUN idle and was answered before it.)
 */
static void test_tmf_and_waiting(struct scsic *c, bool set, unsigned int round)
{
	const uint64_t oh = OFF_CASE(5) + round * (64u << 10), od = oh + (16u << 10);
	const uint64_t ca = OFF_CASE(6) + round * (8u << 10);
	const uint64_t holds[] = { oh, od };
	uint8_t old[IO_BLOCKS * LBS], new[IO_BLOCKS * LBS];
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	const uintptr_t took_d[] = { 5 }, took_tmf[] = { TMF_CK(1) },
			all[] = { 1, 2, 4, TMF_CK(0) };
	uint64_t need = BIT(1) | BIT(2) | BIT(4);

	pattern(old, sizeof(old), 50 + round);
	pattern(new, sizeof(new), 60 + round);
	host_write(ca, old, sizeof(old));
	gate_hold(&fmnt, od, HOLD_LEN);
	verdict_check(&v, read_caw_marker(c, &s, RQ_CTRL, oh, ca, old, new),
		      "the read and the COMPARE AND WRITE were not taken");
	submit_read(c, RQ_OTHER, 4, od);
	submit_marker(c, RQ_OTHER, 5);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_OTHER);
	verdict_check(&v, reap_until(c, &s, took_d, 1, WAIT_MS), "the read behind the CAW was not taken");
	submit_tmf(c, 0, set ? VIRTIO_SCSI_T_TMF_ABORT_TASK_SET :
		   VIRTIO_SCSI_T_TMF_ABORT_TASK, NO_TAG);
	submit_an(c, 1);
	scsic_kick(c, SCSIC_CTRL_VQ);
	verdict_check(&v, reap_until(c, &s, took_tmf, 1, WAIT_MS), "the TMF was not taken");
	gate_release(&fmnt, oh);
	if (!set) {
		/* The CAW ran; the read behind it runs and is held. */
		verdict_check(&v, gate_wait_held(&fmnt, od, WAIT_MS), "the read behind the CAW never ran");
		reap_all(c, &s);
		verdict_check(&v, !s.rank[TMF_CK(0)] && response(c, 4) == 0xff,
			      "the TMF was answered (%u) while a read older than it was held",
			      ctrl_resp[0][0]);
	}
	gate_release(&fmnt, od);
	verdict_check(&v, reap_until(c, &s, all, ARRAY_SIZE(all), WAIT_MS),
		      "never answered: read %d, CAW %d, read behind it %d, TMF %d",
		      !s.rank[1], !s.rank[2], !s.rank[4], !s.rank[TMF_CK(0)]);
	verdict_check(&v, ctrl_answer(0, 0) && (s.answered_at[0] & need) == need,
		      "TMF response %u; commands seen before it: %d %d %d", ctrl_resp[0][0],
		      !!(s.answered_at[0] & BIT(1)), !!(s.answered_at[0] & BIT(2)),
		      !!(s.answered_at[0] & BIT(4)));
	if (set)
		verdict_check(&v, response(c, 1) == VIRTIO_SCSI_S_OK &&
			      response(c, 2) == VIRTIO_SCSI_S_ABORTED &&
			      response(c, 4) == VIRTIO_SCSI_S_ABORTED && host_holds(ca, old, sizeof(old)),
			      "ABORT TASK SET: responses %u %u %u (want OK, ABORTED, ABORTED), or the CAW wrote",
			      response(c, 1), response(c, 2), response(c, 4));
	else
		verdict_check(&v, response(c, 1) == VIRTIO_SCSI_S_OK &&
			      response(c, 2) == VIRTIO_SCSI_S_OK &&
			      response(c, 4) == VIRTIO_SCSI_S_OK && host_holds(ca, new, sizeof(new)),
			      "ABORT TASK: responses %u %u %u, or the CAW did not write",
			      response(c, 1), response(c, 2), response(c, 4));
	verdict_check(&v, !s.twice && !s.bad, "a used id came back twice, or one never posted");
	if (!ok(!v.fail[0], "round %u: %s while a command waits behind a COMPARE AND WRITE on the other queue: answered after it%s",
		round, set ? "ABORT TASK SET" : "ABORT TASK", set ? " (aborted)" : ", once it ran"))
		tap_diag("%s", v.fail);
	settle(c, &s, holds, ARRAY_SIZE(holds));
}

/*
 * The guest keeps one read of the other thread held at all times (the
 * next one is held before the last is let go), while a TMF waits and a
 * paused message is sent.  The message must be answered while the guest
 * still submits: the TMF waits only for what came before it, and a pause
 * drains what is in flight, not what the guest sends later.  (The TMF
 * waited for an idle LUN, the first thread's drain for the TMF, and the
 * message for as long as the I/O went on.)
 */
static void test_pause_not_held_by_new_io(struct scsic *c)
{
	const uint64_t o1 = OFF_CASE(7), os[2] = { o1 + (64u << 10), o1 + (128u << 10) };
	const uint64_t holds[] = { o1, os[0], os[1] };
	struct msg_job m = { c, -1, false };
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	unsigned int cur = 0, reads = 0;
	pthread_t tid;
	long end;

	hold_read_then_tmf(c, &v, &s, o1);
	pthread_create(&tid, NULL, msg_thread, &m);
	/* The stream: slots 10 and 11 in turn, at os[0] and os[1]. */
	gate_hold(&fmnt, os[cur], HOLD_LEN);
	submit_read(c, RQ_OTHER, 10 + cur, os[cur]);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_OTHER);
	gate_wait_held(&fmnt, os[cur], 300);
	gate_release(&fmnt, o1);
	for (end = now_ms() + WAIT_MS; !__atomic_load_n(&m.done, __ATOMIC_ACQUIRE) &&
	     now_ms() < end;) {
		unsigned int nxt = cur ^ 1;
		const uintptr_t mine[] = { 10 + cur };

		gate_hold(&fmnt, os[nxt], HOLD_LEN);
		submit_read(c, RQ_OTHER, 10 + nxt, os[nxt]);
		scsic_kick(c, SCSIC_REQ_VQ + RQ_OTHER);
		/* Not taken soon: the thread has stopped taking requests. */
		gate_wait_held(&fmnt, os[nxt], 300);
		gate_release(&fmnt, os[cur]);
		if (!reap_until(c, &s, mine, 1, WAIT_MS))
			break;
		s.rank[10 + cur] = 0;
		reads++;
		cur = nxt;
	}
	verdict_check(&v, __atomic_load_n(&m.done, __ATOMIC_ACQUIRE),
		      "SET_VRING_CALL and GET_FEATURES not answered in %d ms while reads went on (%u reads)",
		      WAIT_MS, reads);
	gate_release(&fmnt, os[0]);
	gate_release(&fmnt, os[1]);
	for (end = now_ms() + WAIT_MS; !__atomic_load_n(&m.done, __ATOMIC_ACQUIRE) &&
	     now_ms() < end;)
		sleep_ms(5);
	pthread_join(tid, NULL);
	verdict_check(&v, m.ret == 0, "the paused message failed: %d", m.ret);
	for (end = now_ms() + WAIT_MS; !s.rank[TMF_CK(0)] && now_ms() < end; sleep_ms(2))
		reap_all(c, &s);
	verdict_check(&v, s.rank[TMF_CK(0)] && ctrl_answer(0, 0),
		      "the TMF: answered %d, response %u", !!s.rank[TMF_CK(0)], ctrl_resp[0][0]);
	tap_diag("%u reads of the stream went through before the pause", reads);
	if (!ok(!v.fail[0], "a paused message is answered while the guest keeps a read in flight on the other thread and a TMF waits"))
		tap_diag("%s", v.fail);
	settle(c, &s, holds, ARRAY_SIZE(holds));
}

/* Event buffers of our own (cookies EV_COOKIE + i), posted and kicked. */
static struct virtio_scsi_event *evbuf;

static void post_events(struct scsic *c, unsigned int from, unsigned int n)
{
	for (unsigned int i = from; i < from + n; i++) {
		struct front_buf b = { front_gpa(&c->f, &evbuf[i]), sizeof(evbuf[i]), true };

		memset(&evbuf[i], 0xff, sizeof(evbuf[i]));
		fvq_add(&c->f.vqs[SCSIC_EVENT_VQ], &b, 1, (void *)(uintptr_t)(EV_COOKIE + i));
	}
	scsic_kick(c, SCSIC_EVENT_VQ);
}

/*
 * Pauses while the first thread has a read in flight (its drain asks its
 * queues to give back what they hold) and the event queue's thread takes
 * new event buffers: every buffer comes back exactly once, as NO_EVENT.
 * (Every draining thread rewrote the event queue's buffer list: one could
 * be lost, and the event queue never drained, or given back twice.  Under
 * ThreadSanitizer the race shows at once.)
 */
static void test_events_and_pauses(struct scsic *c)
{
	const uint64_t oh = OFF_CASE(8);
	const uint64_t holds[] = { oh };
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	unsigned int posted = 0, back = 0, taken;
	uint16_t base, first = c->f.vqs[SCSIC_EVENT_VQ].avail_idx;

	evbuf = front_alloc(&c->f, NEV * sizeof(*evbuf), 64, NULL);
	if (!ok(evbuf != NULL, "event buffers allocated"))
		return;
	for (unsigned int round = 0; round < 4; round++) {
		struct msg_job m = { c, -1, false };
		const uintptr_t rd[] = { 20 + round };
		pthread_t tid;

		post_events(c, posted, 8);
		posted += 8;
		gate_hold(&fmnt, oh, HOLD_LEN);
		submit_read(c, RQ_CTRL, 20 + round, oh);
		scsic_kick(c, SCSIC_REQ_VQ + RQ_CTRL);
		verdict_check(&v, gate_wait_held(&fmnt, oh, WAIT_MS), "round %u: the read never reached the file", round);
		pthread_create(&tid, NULL, msg_thread, &m);
		/* While the first thread drains: more buffers for the other. */
		post_events(c, posted, 8);
		posted += 8;
		sleep_ms(20);
		gate_release(&fmnt, oh);
		pthread_join(tid, NULL);
		verdict_check(&v, m.ret == 0, "round %u: the paused message failed: %d", round, m.ret);
		verdict_check(&v, reap_until(c, &s, rd, 1, WAIT_MS), "round %u: the read never completed", round);
	}
	/*
	 * Stopping the event queue gives back whatever it still holds.  The
	 * last buffers may still be on the ring, not taken, when the stop
	 * comes (their kick not yet seen): those stay the driver's, and the
	 * base says where they start.
	 */
	verdict_check(&v, front_vq_stop(&c->f, SCSIC_EVENT_VQ, &base) == 0,
		      "GET_VRING_BASE of the event queue failed");
	taken = (uint16_t)(base - first);
	for (long end = now_ms() + 2000; now_ms() < end; sleep_ms(5))
		reap_all(c, &s);
	for (unsigned int i = 0; i < posted; i++) {
		back += s.rank[EV_COOKIE + i] != 0;
		verdict_check(&v, !s.rank[EV_COOKIE + i] ||
			      le32toh(evbuf[i].event) == VIRTIO_SCSI_T_NO_EVENT,
			      "event buffer %u came back with event 0x%x", i,
			      le32toh(evbuf[i].event));
	}
	if (taken < posted)
		tap_diag("%u of %u event buffers were still on the ring at the stop",
			 posted - taken, posted);
	verdict_check(&v, taken <= posted && taken >= posted - 8 &&
		      back == taken && !s.twice && !s.bad,
		      "%u of the %u event buffers taken (of %u posted) came back; one twice: %d",
		      back, taken, posted, s.twice);
	if (!ok(!v.fail[0], "pauses while the threads drain and event buffers arrive: each buffer back once, NO_EVENT"))
		tap_diag("%s", v.fail);
	settle(c, &s, holds, ARRAY_SIZE(holds));
}

/* TEST UNIT READY on the control queue's thread's queue, waited for. */
static bool tur(struct scsic *c, struct scsic_res *r)
{
	uint8_t cdb[6] = { 0 };

	return scsic_cmd(c, lun0, cdb, 6, 0, 0, r) == 0;
}

static bool is_ua(const struct scsic_res *r, uint16_t asc)
{
	return r->response == VIRTIO_SCSI_S_OK && r->status == 2 &&
	       r->sense_len >= 14 && (r->sense[2] & 0xf) == 6 &&
	       r->sense[12] == asc >> 8 && r->sense[13] == (asc & 0xff);
}

/*
 * A COMPARE AND WRITE runs on the control queue's thread, its read held;
 * a read W of the other thread waits behind it; LOGICAL UNIT RESET.  W,
 * sent before the reset and never started, comes back RESET; the CAW
 * completes and writes; the reset is answered after both; the first
 * command after it gets BUS DEVICE RESET FUNCTION OCCURRED (29h/03h), the
 * next one none.  (The race of a reset with W let go by the CAW's end at
 * that very moment is made exactly in test-scsi-dev; from the outside it
 * cannot be forced.)
 */
static void test_reset_aborts_waiting(struct scsic *c)
{
	const uint64_t oc = OFF_CASE(9), ow = OFF_CASE(9) + (64u << 10);
	const uint64_t holds[] = { oc };
	uint8_t old[IO_BLOCKS * LBS], new[IO_BLOCKS * LBS];
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	const uintptr_t took_w[] = { 3 }, took_tmf[] = { TMF_CK(1) }, w[] = { 2 },
			all[] = { 1, 2, TMF_CK(0) };
	struct scsic_res r1, r2, rc;

	pattern(old, sizeof(old), 70);
	pattern(new, sizeof(new), 71);
	host_write(oc, old, sizeof(old));
	gate_hold(&fmnt, oc, HOLD_LEN);
	submit_caw(c, RQ_CTRL, 1, oc, old, new);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_CTRL);
	verdict_check(&v, gate_wait_held(&fmnt, oc, WAIT_MS), "the COMPARE AND WRITE's read never reached the file");
	submit_read(c, RQ_OTHER, 2, ow);
	submit_marker(c, RQ_OTHER, 3);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_OTHER);
	verdict_check(&v, reap_until(c, &s, took_w, 1, WAIT_MS), "the read behind the CAW was not taken");
	verdict_check(&v, !s.rank[2], "the read behind a running COMPARE AND WRITE did not wait");
	submit_tmf(c, 0, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, 0);
	submit_an(c, 1);
	scsic_kick(c, SCSIC_CTRL_VQ);
	verdict_check(&v, reap_until(c, &s, took_tmf, 1, WAIT_MS), "the reset was not taken");
	verdict_check(&v, reap_until(c, &s, w, 1, WAIT_MS) && response(c, 2) == VIRTIO_SCSI_S_RESET,
		      "the waiting read: answered %d, response %u (want RESET at once)",
		      !!s.rank[2], response(c, 2));
	verdict_check(&v, !s.rank[TMF_CK(0)], "the reset was answered while the CAW before it was held");
	gate_release(&fmnt, oc);
	verdict_check(&v, reap_until(c, &s, all, ARRAY_SIZE(all), WAIT_MS),
		      "never answered: CAW %d, read %d, reset %d", !s.rank[1], !s.rank[2],
		      !s.rank[TMF_CK(0)]);
	scsic_result(c, 1, 0, &rc);
	verdict_check(&v, rc.response == VIRTIO_SCSI_S_OK && rc.status == 0 &&
		      host_holds(oc, new, sizeof(new)),
		      "the CAW: response %u status %u, or not written", rc.response, rc.status);
	verdict_check(&v, ctrl_answer(0, 0) && (s.answered_at[0] & (BIT(1) | BIT(2))) == (BIT(1) | BIT(2)),
		      "reset response %u; CAW and read seen before it: %d %d", ctrl_resp[0][0],
		      !!(s.answered_at[0] & BIT(1)), !!(s.answered_at[0] & BIT(2)));
	verdict_check(&v, tur(c, &r1) && is_ua(&r1, 0x2903) && tur(c, &r2) &&
		      r2.response == VIRTIO_SCSI_S_OK && r2.status == 0,
		      "after the reset: status 0x%x sense %x/%02x/%02x (want 6/29/03), then status 0x%x",
		      r1.status, r1.sense[2] & 0xf, r1.sense[12], r1.sense[13], r2.status);
	verdict_check(&v, !s.twice && !s.bad, "a used id came back twice, or one never posted");
	if (!ok(!v.fail[0], "LOGICAL UNIT RESET with a read waiting behind a running COMPARE AND WRITE: read RESET, CAW done, reset last, the unit attention once after"))
		tap_diag("%s", v.fail);
	settle(c, &s, holds, ARRAY_SIZE(holds));
}

/*
 * CAW fairness across threads: read R held on the control queue's
 * thread; C1 from the other queue waits for it; read W of R's queue
 * waits behind C1; C2 and C3 from the other queue come after W.  When R
 * is let go, C1 runs, then W (it waited first), then C2 and C3, each whole:
 * W reads exactly what C1 wrote and the image ends as C3 wrote it, each CAW
 * comparing with what the one before wrote.
 */
static void test_caw_fairness(struct scsic *c)
{
	const uint64_t oh = OFF_CASE(10), ca = OFF_CASE(11);
	const uint64_t holds[] = { oh };
	uint8_t ver[4][IO_BLOCKS * LBS];
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	const uintptr_t took_c1[] = { 3 }, took_w[] = { 5 }, took_c3[] = { 8 },
			all[] = { 1, 2, 4, 6, 7 };
	struct scsic_res r[8];

	for (unsigned int i = 0; i < 4; i++)
		pattern(ver[i], sizeof(ver[i]), 80 + i);
	host_write(ca, ver[0], sizeof(ver[0]));
	gate_hold(&fmnt, oh, HOLD_LEN);
	submit_read(c, RQ_CTRL, 1, oh);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_CTRL);
	verdict_check(&v, gate_wait_held(&fmnt, oh, WAIT_MS), "R never reached the file");
	submit_caw(c, RQ_OTHER, 2, ca, ver[0], ver[1]);
	submit_marker(c, RQ_OTHER, 3);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_OTHER);
	verdict_check(&v, reap_until(c, &s, took_c1, 1, WAIT_MS), "C1 was not taken");
	memset(slot_buf[4], 0, IO_BLOCKS * LBS);
	submit_read(c, RQ_CTRL, 4, ca);
	submit_marker(c, RQ_CTRL, 5);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_CTRL);
	verdict_check(&v, reap_until(c, &s, took_w, 1, WAIT_MS), "W was not taken");
	submit_caw(c, RQ_OTHER, 6, ca, ver[1], ver[2]);
	submit_caw(c, RQ_OTHER, 7, ca, ver[2], ver[3]);
	submit_marker(c, RQ_OTHER, 8);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_OTHER);
	verdict_check(&v, reap_until(c, &s, took_c3, 1, WAIT_MS), "C2 and C3 were not taken");
	reap_all(c, &s);
	verdict_check(&v, !s.rank[1] && !s.rank[2] && !s.rank[4] && !s.rank[6] && !s.rank[7],
		      "answered while R was held: R %d C1 %d W %d C2 %d C3 %d", !!s.rank[1],
		      !!s.rank[2], !!s.rank[4], !!s.rank[6], !!s.rank[7]);
	gate_release(&fmnt, oh);
	verdict_check(&v, reap_until(c, &s, all, ARRAY_SIZE(all), WAIT_MS),
		      "never answered: R %d C1 %d W %d C2 %d C3 %d", !s.rank[1], !s.rank[2],
		      !s.rank[4], !s.rank[6], !s.rank[7]);
	for (unsigned int i = 1; i < 8; i++)
		scsic_result(c, i, 0, &r[i]);
	verdict_check(&v, r[1].status == 0 && r[2].status == 0 && r[4].status == 0 &&
		      r[6].status == 0 && r[7].status == 0 && r[1].response == 0 &&
		      r[2].response == 0 && r[4].response == 0 && r[6].response == 0 &&
		      r[7].response == 0,
		      "status R 0x%x C1 0x%x W 0x%x C2 0x%x C3 0x%x (all GOOD: each CAW found what the one before wrote)",
		      r[1].status, r[2].status, r[4].status, r[6].status, r[7].status);
	verdict_check(&v, !memcmp(slot_buf[4], ver[1], sizeof(ver[1])),
		      "W did not read exactly what C1 wrote: it ran %s",
		      !memcmp(slot_buf[4], ver[0], sizeof(ver[0])) ? "before C1" :
		      !memcmp(slot_buf[4], ver[2], sizeof(ver[2])) ? "after C2" :
		      !memcmp(slot_buf[4], ver[3], sizeof(ver[3])) ? "after C3" :
		      "in the middle of a write");
	verdict_check(&v, host_holds(ca, ver[3], sizeof(ver[3])), "the image is not what C3 wrote");
	verdict_check(&v, s.rank[2] < s.rank[6] && s.rank[6] < s.rank[7],
		      "answer order C1 %d C2 %d C3 %d", s.rank[2], s.rank[6], s.rank[7]);
	verdict_check(&v, !s.twice && !s.bad, "a used id came back twice, or one never posted");
	if (!ok(!v.fail[0], "COMPARE AND WRITE fairness: a read waiting behind one runs before the CAWs sent after it, each CAW whole"))
		tap_diag("%s", v.fail);
	settle(c, &s, holds, ARRAY_SIZE(holds));
}

/*
 * QUERY TASK looks for its tag: a held read's -> FUNCTION SUCCEEDED, a
 * COMPARE AND WRITE waiting behind it likewise, a tag not sent ->
 * FUNCTION COMPLETE; QUERY TASK SET -> FUNCTION SUCCEEDED while anything
 * is held; once all is done, both FUNCTION COMPLETE.
 */
static uint8_t query(struct scsic *c, struct seen *s, uint32_t subtype,
		     uint64_t tag)
{
	const uintptr_t ck[] = { TMF_CK(2) };

	s->rank[TMF_CK(2)] = 0;
	submit_tmf(c, 2, subtype, tag);
	scsic_kick(c, SCSIC_CTRL_VQ);
	if (!reap_until(c, s, ck, 1, WAIT_MS))
		return 0xee;
	return __atomic_load_n(&ctrl_resp[2][0], __ATOMIC_ACQUIRE);
}

static void test_query_task(struct scsic *c)
{
	const uint8_t yes = VIRTIO_SCSI_S_FUNCTION_SUCCEEDED, no = 0;
	const uint64_t oq = OFF_CASE(12), ca = OFF_CASE(12) + (64u << 10);
	const uint64_t holds[] = { oq };
	uint8_t old[IO_BLOCKS * LBS], new[IO_BLOCKS * LBS], q[7];
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	const uintptr_t all[] = { 1, 2 };

	pattern(old, sizeof(old), 90);
	pattern(new, sizeof(new), 91);
	host_write(ca, old, sizeof(old));
	verdict_check(&v, read_caw_marker(c, &s, RQ_OTHER, oq, ca, old, new),
		      "the read and the CAW were not taken");
	q[0] = query(c, &s, VIRTIO_SCSI_T_TMF_QUERY_TASK, 1);
	q[1] = query(c, &s, VIRTIO_SCSI_T_TMF_QUERY_TASK, 2);
	q[2] = query(c, &s, VIRTIO_SCSI_T_TMF_QUERY_TASK, NO_TAG);
	q[3] = query(c, &s, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, 0);
	gate_release(&fmnt, oq);
	verdict_check(&v, reap_until(c, &s, all, ARRAY_SIZE(all), WAIT_MS), "the read or the CAW never answered");
	q[4] = query(c, &s, VIRTIO_SCSI_T_TMF_QUERY_TASK, 1);
	q[5] = query(c, &s, VIRTIO_SCSI_T_TMF_QUERY_TASK, 2);
	q[6] = query(c, &s, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, 0);
	verdict_check(&v, q[0] == yes && q[1] == yes && q[2] == no && q[3] == yes,
		      "while held: QUERY TASK read %u, CAW %u, unknown tag %u; QUERY TASK SET %u (want %u %u %u %u)",
		      q[0], q[1], q[2], q[3], yes, yes, no, yes);
	verdict_check(&v, q[4] == no && q[5] == no && q[6] == no,
		      "once done: QUERY TASK %u %u, QUERY TASK SET %u (want %u)", q[4], q[5], q[6], no);
	verdict_check(&v, response(c, 1) == VIRTIO_SCSI_S_OK && response(c, 2) == VIRTIO_SCSI_S_OK &&
		      host_holds(ca, new, sizeof(new)), "the read or the CAW failed, or the CAW did not write");
	if (!ok(!v.fail[0], "QUERY TASK: FUNCTION SUCCEEDED for a held read and a waiting CAW by tag, FUNCTION COMPLETE for an unknown tag and once done; QUERY TASK SET likewise"))
		tap_diag("%s", v.fail);
	settle(c, &s, holds, ARRAY_SIZE(holds));
}

/*
 * SIGTERM while a read of the other thread is held and a TMF waits for
 * it: the daemon drains, so it is still there while the read is held;
 * once the read is let go (200 ms later) the read, then the TMF, are
 * answered and it exits 0.  Last: the daemon is gone after it.
 */
static void test_sigterm_with_tmf(struct scsic *c, struct daemon *d)
{
	const uint64_t od = OFF_CASE(13);
	struct verdict v = { { 0 } };
	struct seen s = SEEN_INIT;
	int status = 0;
	bool early;

	hold_read_then_tmf(c, &v, &s, od);
	kill(d->pid, SIGTERM);
	sleep_ms(200);
	early = waitpid(d->pid, &status, WNOHANG) == d->pid;
	if (early)
		d->pid = -1;
	verdict_check(&v, !early, "the daemon exited while a read was held (status 0x%x)", status);
	gate_release(&fmnt, od);
	/* daemon_stop() sends SIGTERM again and waits up to 10 s. */
	status = daemon_stop(d);
	verdict_check(&v, status == 0, "exit status %d once the read was let go", status);
	reap_all(c, &s);
	verdict_check(&v, s.rank[1] && s.rank[TMF_CK(0)] && response(c, 1) == VIRTIO_SCSI_S_OK &&
		      ctrl_answer(0, 0) && (s.answered_at[0] & BIT(1)),
		      "before it exited: read answered %d (response %u), TMF %d (%u), read first %d",
		      !!s.rank[1], response(c, 1), !!s.rank[TMF_CK(0)], ctrl_resp[0][0],
		      !!(s.answered_at[0] & BIT(1)));
	if (!ok(!v.fail[0], "SIGTERM while a read is held and a TMF waits: the daemon drains, answers both, exits 0"))
		tap_diag("%s", v.fail);
	if (d->pid > 0)
		daemon_stop(d);
	gate_release(&fmnt, od);
}

int main(void)
{
	struct daemon d;
	struct scsic c;
	int ret, status;

	if (!test_env_init(&env, 4096))
		return 0;
	if (getenv("TEST_SCSI_THREADS"))
		nthreads = (unsigned int)atoi(getenv("TEST_SCSI_THREADS"));
	if (nthreads < 1 || nthreads > 2)
		nthreads = 2;
	scsic_lun(lun0, 0, 0);
	if (!ok(ffs_start(&fmnt, IMG_SIZE) == 0, "fuse-faulty serves disk.img with a gate (%s)", ffs_binary())) {
		tap_diag("fuse-faulty needs fuse3 (tests/install-deps.sh) and /dev/fuse: %s",
			 fmnt.why);
		if (!ffs_stuck())
			harness_cleanup();
		return tap_done();
	}
	ret = start(&d);
	if (!ok(ret == 0, "vhost-uring-scsi starts on it (%s, %u I/O thread%s)", env.aio,
		nthreads, nthreads > 1 ? "s" : "")) {
		daemon_log_diag(&d, 0);
		if (ffs_stop(&fmnt))
			harness_cleanup();
		return tap_done();
	}
	ret = open_client(&c, &d);
	if (ok(ret == 0, "connect: control, event and 2 request queues (%s)", strerror(-ret))) {
		test_tmf_not_held_by_later(&c);
		for (unsigned int i = 0; i < 4; i++)
			test_abort_waiting_caw(&c, i);
		for (unsigned int i = 0; i < 4; i++)
			test_tmf_and_waiting(&c, i & 1, i);
		test_pause_not_held_by_new_io(&c);
		test_events_and_pauses(&c);
		test_reset_aborts_waiting(&c);
		test_caw_fairness(&c);
		test_query_task(&c);
		test_sigterm_with_tmf(&c, &d);
	}
	scsic_close(&c);
	if (d.pid > 0) {
		status = daemon_stop(&d);
		if (!ok(status == 0, "SIGTERM: exit status 0 (%d)", status))
			daemon_log_diag(&d, 0);
	}
	if (ffs_stop(&fmnt))
		harness_cleanup();
	return tap_done();
}
