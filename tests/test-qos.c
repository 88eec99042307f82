// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-qos.c: QoS limits in a running daemon, as behaviour (the limiter's
 * arithmetic is test-throttle's).  A limit of 1 byte per second lets the
 * first read go and holds the next ones for an hour: they must be held,
 * and must go at once when the device stops (GET_VRING_BASE drains; QEMU
 * lifts its limits for a drain too) or when a SCSI task management
 * function waits for them, or when the control socket removes the limit;
 * another LUN without limits goes on meanwhile.
 * Bad --iotune values and --lun keys are refused at start-up with a line
 * naming the key.  The engine comes from $TEST_AIO (default io_uring).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_scsi.h>

#include "harness.h"
#include "tap.h"
#include "util.h"

#define NREQ		4
#define IO_LEN		4096u
#define HOLD_MS		300	/* long enough to see a held request complete */
#define WAIT_MS		10000	/* far below the hour a held request waits */

static struct test_env env;

/* ---- virtio-blk ----------------------------------------------------- */

struct blk_slot {
	uint8_t *hdr;
	uint8_t *status;
	uint8_t *data;
};

/* Put NREQ reads on queue 0 at once, each with its own buffers; kick. */
static void blk_reads(struct blkc *c, struct blk_slot *s)
{
	struct front_vq *vq = &c->f.vqs[0];

	for (uintptr_t i = 0; i < NREQ; i++) {
		struct front_buf b[3];
		unsigned int n;

		s[i].hdr = front_alloc(&c->f, FBLK_HDR_SIZE, 16, NULL);
		s[i].status = front_alloc(&c->f, 1, 1, NULL);
		s[i].data = front_alloc(&c->f, IO_LEN, 4096, NULL);
		fblk_prep(s[i].hdr, s[i].status, VIRTIO_BLK_T_IN, i * 8);
		n = fblk_bufs(b, front_gpa(&c->f, s[i].hdr),
			      front_gpa(&c->f, s[i].data), IO_LEN, true,
			      front_gpa(&c->f, s[i].status));
		fvq_add(vq, b, n, (void *)(i + 1));
	}
	fvq_kick(vq);
}

/* How many of the NREQ reads completed with status OK. */
static unsigned int blk_ok(const struct blk_slot *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < NREQ; i++)
		n += *s[i].status == VIRTIO_BLK_S_OK;
	return n;
}

/*
 * Used entries of vq: the first within first_ms, each next one within
 * next_ms of the one before (0: what is there now).
 */
static unsigned int reap(struct front_vq *vq, int first_ms, int next_ms)
{
	unsigned int n = 0;
	void *cookie;
	uint32_t len;

	while (fvq_wait_used(vq, n ? next_ms : first_ms, &cookie, &len) == 1)
		n++;
	return n;
}

static void test_blk_drain(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--num-queues=1",
			       "--iotune=total_bytes_sec=1", NULL };
	struct blk_slot s[NREQ];
	struct daemon d;
	struct blkc c;
	unsigned int first, held, rest = 0, good;
	uint16_t base = 0;
	int ret;

	if (!ok(daemon_start(&d, args) == 0, "blk: starts with --iotune=total_bytes_sec=1"))
		return;
	ret = blkc_open(&c, d.sock, 1, ~0ull, BIT_ULL(VU_PF_MQ) |
			BIT_ULL(VU_PF_REPLY_ACK));
	if (!ok(ret == 0, "blk: a front end connects (%s)", strerror(-ret)))
		goto out;
	blk_reads(&c, s);
	first = reap(&c.f.vqs[0], WAIT_MS, 0);
	held = reap(&c.f.vqs[0], HOLD_MS, HOLD_MS);
	ok(first >= 1 && first + held == 1,
	   "blk: of %d reads under a limit of 1 byte/s, the first completes and the rest are held (%u completed)",
	   NREQ, first + held);
	ret = front_vq_stop(&c.f, 0, &base);
	rest = reap(&c.f.vqs[0], 0, 0);
	good = blk_ok(s);
	ok(ret == 0 && base == NREQ && rest == NREQ - 1 && good == NREQ,
	   "blk: GET_VRING_BASE drains: the held reads complete OK before its answer (%d, base %u, %u more, %u OK)",
	   ret, base, rest, good);
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "blk: the daemon exits 0");
	return;
out:
	daemon_stop(&d);
}

/*
 * Held reads go at once when the control socket removes the limit, and a
 * limit set live holds the next ones.
 */
static void test_blk_live(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--num-queues=1",
			       "--iotune=total_bytes_sec=1", NULL };
	const char *unset[] = { "iotune", "total_bytes_sec=0", NULL };
	const char *set[] = { "iotune", "total_bytes_sec=1", NULL };
	struct blk_slot s[NREQ];
	struct daemon d;
	struct blkc c;
	unsigned int n, good;
	int ret;

	if (!ok(daemon_start_ctl(&d, blk_daemon_binary(), args) == 0,
		"blk live: starts with a control socket and a limit of 1 byte/s"))
		return;
	ret = blkc_open(&c, d.sock, 1, ~0ull, BIT_ULL(VU_PF_MQ) |
			BIT_ULL(VU_PF_REPLY_ACK));
	if (!ok(ret == 0, "blk live: a front end connects (%s)", strerror(-ret)))
		goto out;
	blk_reads(&c, s);
	n = reap(&c.f.vqs[0], WAIT_MS, HOLD_MS);
	ret = run_ctl(&d, unset, NULL, 0, NULL, 0);
	n += reap(&c.f.vqs[0], WAIT_MS, HOLD_MS);
	good = blk_ok(s);
	ok(ret == 0 && n == NREQ && good == NREQ,
	   "blk live: iotune total_bytes_sec=0 lets the held reads go (ctl %d, %u completed, %u OK)",
	   ret, n, good);
	ret = run_ctl(&d, set, NULL, 0, NULL, 0);
	blk_reads(&c, s);
	n = reap(&c.f.vqs[0], WAIT_MS, HOLD_MS);
	ok(ret == 0 && n == 1,
	   "blk live: iotune total_bytes_sec=1 holds the next reads but one (ctl %d, %u completed)",
	   ret, n);
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "blk live: the daemon exits 0");
	return;
out:
	daemon_stop(&d);
}

/* ---- virtio-scsi ---------------------------------------------------- */

static void read10(uint8_t *cdb, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 10);
	cdb[0] = 0x28;
	cdb[2] = lba >> 24;
	cdb[3] = lba >> 16;
	cdb[4] = lba >> 8;
	cdb[5] = (uint8_t)lba;
	cdb[7] = blocks >> 8;
	cdb[8] = (uint8_t)blocks;
}

/* Reads on lun in slots [first, first + n) of request queue 0; kick. */
static void scsi_reads(struct scsic *c, const uint8_t *lun, unsigned int first,
		       unsigned int n)
{
	uint8_t cdb[10];

	for (unsigned int i = first; i < first + n; i++) {
		read10(cdb, i * 8, IO_LEN / 512);
		scsic_submit(c, 0, i, lun, cdb, 10, NULL, 0,
			     c->din + i * IO_LEN, IO_LEN);
	}
	scsic_kick(c, SCSIC_REQ_VQ);
}

/* As reap() on the request queue, counting GOOD answers in *good. */
static unsigned int scsi_reap(struct scsic *c, int first_ms, int next_ms,
			      unsigned int *good)
{
	unsigned int n = 0;
	uintptr_t slot;
	uint32_t len;

	while (scsic_reap(c, SCSIC_REQ_VQ, n ? next_ms : first_ms, &slot,
			  &len) == 1) {
		struct scsic_res res;

		scsic_result(c, (unsigned int)slot, len, &res);
		if (res.response == VIRTIO_SCSI_S_OK && res.status == 0)
			(*good)++;
		n++;
	}
	return n;
}

static void test_scsi_tmf(void)
{
	char lun0_arg[400], lun1_arg[400], img1[320];
	const char *args[] = { lun0_arg, lun1_arg, env.aio_arg,
			       "--num-queues=1", NULL };
	uint8_t lun0[8], lun1[8], resp = 0xff;
	unsigned int first, held, other, rest, good = 0, ogood = 0;
	struct daemon d;
	struct scsic c;
	int ret;

	snprintf(img1, sizeof(img1), "%s/lun1.img", harness_dir());
	image_create(img1, 8 << 20);
	snprintf(lun0_arg, sizeof(lun0_arg), "--lun=0,file=%s,total_bytes_sec=1",
		 env.img);
	snprintf(lun1_arg, sizeof(lun1_arg), "--lun=1,file=%s", img1);
	scsic_lun(lun0, 0, 0);
	scsic_lun(lun1, 0, 1);
	if (!ok(daemon_start_bin(&d, scsi_daemon_binary(), args) == 0,
		"scsi: starts with LUN 0 limited to 1 byte/s, LUN 1 unlimited"))
		return;
	ret = scsic_open(&c, d.sock, 1, ~0ull);
	if (!ok(ret == 0, "scsi: a front end connects (%s)", strerror(-ret)))
		goto out;
	/* A unit attention answers each LUN's first command: take it. */
	scsi_reads(&c, lun0, 0, 1);
	scsi_reap(&c, WAIT_MS, 0, &good);
	scsi_reads(&c, lun1, 0, 1);
	scsi_reap(&c, WAIT_MS, 0, &good);
	good = 0;
	scsi_reads(&c, lun0, 0, NREQ);
	first = scsi_reap(&c, WAIT_MS, 0, &good);
	held = scsi_reap(&c, HOLD_MS, HOLD_MS, &good);
	ok(first + held == 1,
	   "scsi: of %d reads of LUN 0 under 1 byte/s, the first completes and the rest are held (%u completed)",
	   NREQ, first + held);
	scsi_reads(&c, lun1, NREQ, 2);
	other = scsi_reap(&c, WAIT_MS, HOLD_MS, &ogood);
	ok(other == 2 && ogood == 2,
	   "scsi: LUN 1 reads complete meanwhile (%u, %u GOOD)", other, ogood);
	ret = scsic_tmf(&c, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun0, 0, &resp);
	rest = scsi_reap(&c, 0, 0, &good);
	ok(ret == 0 && resp == VIRTIO_SCSI_S_OK && rest == NREQ - 1 &&
	   good == NREQ,
	   "scsi: LOGICAL UNIT RESET lets the held reads go and completes after them (%d, response %u, %u done, %u GOOD)",
	   ret, resp, rest, good);
	scsic_close(&c);
	ok(daemon_stop(&d) == 0, "scsi: the daemon exits 0");
	return;
out:
	daemon_stop(&d);
}

/* ---- start-up refusals ---------------------------------------------- */

/* The daemon (scsi or blk) exits 1 on arg, with a line containing want. */
static void refused(bool scsi, const char *arg, const char *want)
{
	const char *args[] = { "--socket-path=/nonexistent/s", arg,
			       scsi ? NULL : env.img_arg, NULL };
	char out[2048];
	int st = scsi ? run_daemon_cmd_bin(scsi_daemon_binary(), args, out,
					   sizeof(out)) :
			run_daemon_cmd(args, out, sizeof(out));

	ok(st == 1 && strstr(out, want), "%s exits 1 naming \"%s\"", arg, want);
}

static void test_refusals(void)
{
	char a[400];

	refused(false, "--iotune=total_iops_sec=-5", "total_iops_sec");
	refused(false, "--iotune=total_iops_sec=1e3", "total_iops_sec");
	refused(false, "--iotune=read_bytes_sec=99999999999999999999",
		"read_bytes_sec");
	refused(false, "--iotune=bogus_sec=5", "bogus_sec");
	refused(false, "--iotune=total_iops_sec=10,read_iops_sec=5",
		"read_iops_sec");
	refused(false, "--iotune=total_iops_sec=100,total_iops_sec_max=50",
		"total_iops_sec_max");
	snprintf(a, sizeof(a), "--lun=0,file=%s,write_iops_sec=x", env.img);
	refused(true, a, "write_iops_sec");
	snprintf(a, sizeof(a), "--lun=0,file=%s,total_bytes_sec_max=100", env.img);
	refused(true, a, "total_bytes_sec_max");
}

int main(void)
{
	if (!test_env_init(&env, 8 << 20))
		return 0;
	test_blk_drain();
	test_blk_live();
	test_scsi_tmf();
	test_refusals();
	harness_cleanup();
	return tap_done();
}
