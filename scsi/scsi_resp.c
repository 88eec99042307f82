// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_resp.c: virtio-scsi framing.  Where a request's response header
 * and data are in the guest's buffers, how a LUN address decodes, and
 * the answers themselves: a command's response header (status, sense,
 * residual), an emulated command's data-in, a TMF's response byte.
 */
#include "scsi_priv.h"

void scsi_respond(struct scsi_io *io, uint8_t response, uint32_t data_in)
{
	struct virtio_scsi_cmd_resp r;
	const struct scsi_cmd *c = &io->cmd;

	memset(&r, 0, sizeof(r));
	r.resid = htole32(io->resid);
	r.status = c->status;
	r.response = response;
	if (response == VIRTIO_SCSI_S_OK && c->status == SAM_CHECK_CONDITION) {
		scsi_build_sense(r.sense, c->key, c->asc);
		if (c->info_valid) {
			r.sense[0] |= 0x80;
			put_be32(r.sense + 3, c->info);
		}
		r.sense_len = htole32(SCSI_FIXED_SENSE_LEN);
	}
	iov_from_buf(io->resp, io->nresp, 0, &r, sizeof(r));
	/* A command on a LUN counts in the LUN's statistics. */
	if (io->ln)
		disk_req_end(&io->dr);
	free(io->bounce);
	io->bounce = NULL;
	virtq_push(io_req(io), RESP_HDR_SIZE + data_in);
}

/* LUN number of a virtio-scsi address on target 0, or -1 (bad target). */
int scsi_decode_lun(const uint8_t *l, bool *wlun)
{
	*wlun = false;
	if (l[0] == 0xc1 && l[1] == 0x01 && !l[2] && !l[3] && !l[4] &&
	    !l[5] && !l[6] && !l[7]) {
		*wlun = true;
		return 0;
	}
	if (l[0] != 1 || l[1] != 0 || l[4] || l[5] || l[6] || l[7])
		return -1;
	if (l[2] == 0xc1 && l[3] == 0x01) {	/* Linux's form of the WLUN */
		*wlun = true;
		return 0;
	}
	if ((l[2] & 0xc0) == 0x40)
		return (l[2] & 0x3f) << 8 | l[3];
	if (l[2] == 0)
		return l[3];
	return SCSI_MAX_LUNS;	/* another addressing method: no such LUN */
}

/* Slice [skip, skip + len) of an iovec array into out; false if it won't fit. */
bool scsi_iov_slice(const struct iovec *iov, unsigned int cnt, size_t skip,
		    size_t len, struct iovec *out, unsigned int *n,
		    unsigned int max)
{
	*n = 0;
	for (unsigned int i = 0; i < cnt && len; i++) {
		size_t take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		if (*n == max)
			return false;
		take = MIN(iov[i].iov_len - skip, len);
		out[*n].iov_base = (char *)iov[i].iov_base + skip;
		out[(*n)++].iov_len = take;
		len -= take;
		skip = 0;
	}
	return len == 0;
}

/* Copy an emulated command's data-in to the guest and answer it. */
void scsi_answer(struct scsi_io *io, const uint8_t *data, uint32_t din_len)
{
	struct scsi_cmd *c = &io->cmd;
	uint32_t n = MIN(MIN(c->data_len, c->xfer_in), din_len);

	if (c->status != SAM_GOOD)
		n = 0;
	iov_from_buf(io->data, io->data_cnt, 0, data, n);
	io->resid = din_len - n;
	scsi_respond(io, VIRTIO_SCSI_S_OK, n);
}

/* Where the data-in or data-out is: io->data, cut out of req's iovecs. */
void scsi_locate_data(struct scsi_io *io, struct vq_req *req)
{
	struct iovec *dout = req->iov;
	unsigned int dout_cnt = req->out_num;

	iov_discard_front(&dout, &dout_cnt, REQ_HDR_SIZE);
	if (io->dout_len) {
		io->data = dout;
		io->data_cnt = dout_cnt;
	} else {
		io->data = req->iov + req->out_num;
		io->data_cnt = req->in_num;
		iov_discard_front(&io->data, &io->data_cnt, RESP_HDR_SIZE);
	}
}

void scsi_tmf_answer(struct scsi_io *io, uint8_t response)
{
	iov_from_buf(io->resp, io->nresp, 0, &response, 1);
	virtq_push(io_req(io), 1);
}
