/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi_req.h: the SCSI commands of vhost-uring-bench --device=scsi: the
 * few CDBs the tool sends (TEST UNIT READY, READ CAPACITY(16), READ(16),
 * WRITE(16), and MODE SENSE(6) for the write protect bit), and the reading
 * of a response (status, response code, sense) into a verdict and a
 * human-readable message.
 */
#ifndef VU_BENCH_SCSI_REQ_H
#define VU_BENCH_SCSI_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_scsi.h>

#define SCSI_REQ_LUN_MAX	16383	/* flat space addressing: 14 bits */
#define SCSI_READCAP16_LEN	32
#define SCSI_MODE_HDR6_LEN	4

enum scsi_verdict {
	SCSI_V_OK,		/* response OK, status GOOD, no residual */
	SCSI_V_UNIT_ATTENTION,	/* CHECK CONDITION with UNIT ATTENTION */
	SCSI_V_FAILED,		/* anything else */
};

void scsi_req_tur(struct virtio_scsi_cmd_req *req);
void scsi_req_read_capacity16(struct virtio_scsi_cmd_req *req);
/* MODE SENSE(6) of the header only (no block descriptors), for the WP bit. */
void scsi_req_mode_sense6(struct virtio_scsi_cmd_req *req);
/* READ(16) or WRITE(16) of nblocks at lba, FUA clear. */
void scsi_req_rw16(struct virtio_scsi_cmd_req *req, bool write, uint64_t lba,
		   uint32_t nblocks);

/* Mark a response header as not yet written by the device. */
void scsi_resp_clear(struct virtio_scsi_cmd_resp *resp);
/*
 * Judge a completed command.  On anything but SCSI_V_OK, msg (len bytes)
 * says what went wrong: response code, status, sense key, ASC and ASCQ,
 * residual.
 */
enum scsi_verdict scsi_resp_check(const struct virtio_scsi_cmd_resp *resp,
				  char *msg, size_t len);

/* READ CAPACITY(16) data: number of blocks and block length.  0 or -1. */
int scsi_parse_capacity16(const uint8_t *data, uint64_t *nblocks,
			  uint32_t *block_len);
/* The write protect bit of a MODE SENSE(6) header. */
bool scsi_mode6_write_protected(const uint8_t *hdr);

#endif
