// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_setup.c: owns what vhost-uring-bench --device=scsi does before the
 * run: bringing up the control and event queues (which stay idle), and
 * asking the LUN, through the first request queue, whether it is there and
 * how large it is.  The commands here are synchronous, run by the
 * front-end library's virtio-scsi pieces (front_scsi.h); the run itself
 * is in bench.c.
 */
#include <errno.h>
#include <string.h>

#include "front_scsi.h"
#include "log.h"
#include "scsi_req.h"
#include "scsi_setup.h"

#define EVENT_BUFS		4
#define CMD_TIMEOUT_MS		5000
#define UA_TRIES		4

/* One synchronous command's buffers in guest memory. */
struct sync_cmd {
	struct virtio_scsi_cmd_req req;
	struct virtio_scsi_cmd_resp resp;
	uint8_t data[SCSI_READCAP16_LEN];
};

/* Event buffers for the device to fill; nobody reaps them during the run. */
static int post_event_bufs(struct front *f)
{
	struct virtio_scsi_event *ev;

	ev = front_alloc(f, EVENT_BUFS * sizeof(*ev), 64, NULL);
	if (!ev)
		return -ENOMEM;
	return fscsi_post_events(f, ev, EVENT_BUFS);
}

/*
 * Run the command built in c->req, with din bytes of data-in.  Returns the
 * verdict (msg filled on failure) or -1 after a message.
 */
static int run_cmd(struct front *f, struct sync_cmd *c, uint32_t din,
		   const char *what, char *msg, size_t len)
{
	struct front_vq *vq = &f->vqs[SCSIC_REQ_VQ];
	struct front_buf b[3];
	unsigned int n;
	uint32_t used;
	int ret;

	scsi_resp_clear(&c->resp);
	memset(c->data, 0, sizeof(c->data));
	n = fscsi_bufs(b, front_gpa(f, &c->req), 0, 0, front_gpa(f, &c->resp),
		       front_gpa(f, c->data), din);
	ret = fscsi_run(f, SCSIC_REQ_VQ, b, n, CMD_TIMEOUT_MS, &used);
	if (ret == -ENOSPC) {
		log_err("%s: no room on the request queue", what);
		return -1;
	}
	if (ret == -ETIMEDOUT && fvq_wait_err(vq, 0) != 1) {
		log_err("%s: the back-end did not answer within %d s", what,
			CMD_TIMEOUT_MS / 1000);
		return -1;
	}
	if (ret < 0) {
		log_err("%s: the back-end signalled a vring error or returned an unknown descriptor",
			what);
		return -1;
	}
	return scsi_resp_check(&c->resp, msg, len);
}

/* A command, retried while the LUN reports a unit attention. */
static int run_cmd_ua(struct front *f, struct sync_cmd *c, uint32_t din,
		      unsigned int lun, const char *what)
{
	char msg[256];
	int v = SCSI_V_UNIT_ATTENTION;

	for (int i = 0; i < UA_TRIES && v == SCSI_V_UNIT_ATTENTION; i++) {
		v = run_cmd(f, c, din, what, msg, sizeof(msg));
		if (v < 0)
			return -1;
	}
	if (v != SCSI_V_OK) {
		log_err("LUN %u: %s failed: %s", lun, what, msg);
		return -1;
	}
	return 0;
}

int scsi_setup(struct front *f, unsigned int lun, uint16_t num,
	       uint64_t *nblocks, uint32_t *block_len, bool *read_only)
{
	struct sync_cmd *c;
	uint8_t addr[8];
	char msg[256];
	int ret;

	for (unsigned int i = SCSIC_CTRL_VQ; i <= SCSIC_REQ_VQ; i++) {
		ret = front_vq_start(f, i, num);
		if (ret < 0) {
			log_err("starting queue %u failed: %s", i, strerror(-ret));
			return -1;
		}
	}
	ret = post_event_bufs(f);
	c = front_alloc(f, sizeof(*c), 64, NULL);
	if (ret < 0 || !c) {
		log_err("no guest memory left for the set-up commands");
		return -1;
	}
	scsic_lun(addr, 0, lun);
	fscsi_req_init(&c->req, addr, 1);
	scsi_req_tur(&c->req);
	if (run_cmd_ua(f, c, 0, lun, "TEST UNIT READY") < 0)
		return -1;
	scsi_req_read_capacity16(&c->req);
	if (run_cmd_ua(f, c, SCSI_READCAP16_LEN, lun, "READ CAPACITY(16)") < 0)
		return -1;
	if (scsi_parse_capacity16(c->data, nblocks, block_len) < 0) {
		log_err("LUN %u: READ CAPACITY(16) returned nonsense (block length 0 or no blocks)",
			lun);
		return -1;
	}
	scsi_req_mode_sense6(&c->req);
	ret = run_cmd(f, c, SCSI_MODE_HDR6_LEN, "MODE SENSE(6)", msg, sizeof(msg));
	if (ret < 0)
		return -1;
	*read_only = ret == SCSI_V_OK && scsi_mode6_write_protected(c->data);
	return 0;
}
