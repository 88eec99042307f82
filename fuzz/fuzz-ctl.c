// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-ctl.c: fuzzes the control socket's request handling: each line of
 * the input goes through what the control thread does with a line
 * (src/ctl_rpc.c: the JSON parser of src/json.c, the JSON-RPC checks, the
 * dispatch) to the real methods (src/ctl_cmds.c) on a stand-in device
 * with real disks (src/disk_io.c, src/disk_stats.c, src/throttle.c) and
 * no I/O threads.  It checks what a client is promised: a request with an
 * id gets exactly one line, a JSON-RPC 2.0 response with a result or an
 * error of a standard code and a message; a line gets no answer only when
 * it is a well-formed notification; every reply is valid JSON (our parser
 * refuses invalid UTF-8).
 *
 * Input: flags u8 (bit 0: a scsi device with LUNs 0 and 3, else a blk
 * device), then the lines, split at LF (the last one may lack it); a
 * line longer than CTL_LINE_MAX is answered as control.c answers it.
 */
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "disk_io.h"
#include "fuzz.h"
#include "throttle.h"
#include "util.h"
#include "vhost_user.h"

#define NDISKS		2
#define REPLY_NODES	65536

static struct backing bk = { .fd = -1, .size = 1ull << 30, .lbs = 512 };
static struct disk disks[NDISKS];
static bool scsi;
static struct vu_dev dev;
static struct ctl_target target = { .dev = &dev };
static struct json_doc doc, rdoc;
static struct json_node nodes[JSON_MAX_NODES];
static struct json_node *rnodes;
static char *line, *copy;

static struct disk *fake_disk(void *ctx, unsigned int i, int *lun)
{
	(void)ctx;
	if (i >= (scsi ? NDISKS : 1))
		return NULL;
	*lun = scsi ? (int)i * 3 : -1;
	return &disks[i];
}

static bool fake_rescan(void *ctx)
{
	(void)ctx;
	return false;
}

static struct vu_dev_ops blk_ops = {
	.name = "virtio-blk", .disk = fake_disk, .rescan = fake_rescan,
};
static struct vu_dev_ops scsi_ops = {
	.name = "virtio-scsi", .disk = fake_disk, .rescan = fake_rescan,
};

static void setup(void)
{
	/* A path that needs escaping in JSON and in Prometheus labels. */
	static const char *const paths[NDISKS] = {
		"/img/a\"b\\c\xc3\xa9\n.img", "/img/lun3.img",
	};

	for (unsigned int i = 0; i < NDISKS; i++) {
		if (disk_init(&disks[i], &bk, paths[i], CACHE_NONE, 4) < 0)
			fuzz_fail("disk_init");
	}
	dev.sock = -1;
	json_doc_init(&doc, nodes, JSON_MAX_NODES);
	rnodes = calloc(REPLY_NODES, sizeof(*rnodes));
	line = malloc(CTL_LINE_MAX + 1);
	copy = malloc(CTL_LINE_MAX + 1);
	if (!rnodes || !line || !copy)
		fuzz_fail("out of memory");
	json_doc_init(&rdoc, rnodes, REPLY_NODES);
}

/* A line that got no reply must be a well-formed notification. */
static void check_notification(char *text, size_t len)
{
	const struct json_node *r = json_parse(&doc, text, len), *v;

	if (!r || r->type != JSON_OBJECT || json_get(r, "id"))
		fuzz_fail("no reply to a line that is not a notification");
	v = json_get(r, "jsonrpc");
	if (!v || v->type != JSON_STRING || strcmp(v->s, "2.0") ||
	    !json_get(r, "method"))
		fuzz_fail("no reply to an invalid request");
}

static void check_reply(struct sbuf *out)
{
	const struct json_node *r, *res, *err, *code, *msg;
	int64_t c;

	if (!out->len || out->p[out->len - 1] != '\n' ||
	    memchr(out->p, '\n', out->len) != out->p + out->len - 1)
		fuzz_fail("a reply is not one line");
	r = json_parse(&rdoc, out->p, out->len - 1);
	if (!r || r->type != JSON_OBJECT)
		fuzz_fail("a reply is not a JSON object");
	res = json_get(r, "result");
	err = json_get(r, "error");
	if (!json_get(r, "id") || !json_get(r, "jsonrpc") || !res == !err)
		fuzz_fail("a reply lacks id or jsonrpc, or has both or neither of result and error");
	if (!err)
		return;
	code = json_get(err, "code");
	msg = json_get(err, "message");
	if (json_int64(code, &c) < 0 || (c != RPC_PARSE_ERROR &&
	    c != RPC_INVALID_REQUEST && c != RPC_METHOD_NOT_FOUND &&
	    c != RPC_INVALID_PARAMS && c != RPC_INTERNAL_ERROR))
		fuzz_fail("an error reply without a standard code");
	if (!msg || msg->type != JSON_STRING || !msg->len)
		fuzz_fail("an error reply without a message");
}

static void one_line(const uint8_t *p, size_t len, struct sbuf *out)
{
	sbuf_reset(out);
	if (len > CTL_LINE_MAX) {
		ctl_rpc_error_line(out, RPC_INVALID_REQUEST,
				   "request longer than 65536 bytes");
		check_reply(out);
		return;
	}
	memcpy(line, p, len);
	memcpy(copy, p, len);
	ctl_rpc_line(ctl_methods, &target, &doc, line, len, out);
	if (out->oom)
		fuzz_fail("out of memory for a reply");
	if (out->len)
		check_reply(out);
	else
		check_notification(copy, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct thr_config none;
	struct sbuf out;

	if (!line)
		setup();
	scsi = fuzz_u8(&in) & 1;
	dev.ops = scsi ? &scsi_ops : &blk_ops;
	memset(&none, 0, sizeof(none));
	for (unsigned int i = 0; i < NDISKS; i++)
		disk_limits_set(&disks[i], &none);
	sbuf_init(&out);
	while (in.left) {
		const uint8_t *lf = memchr(in.p, '\n', in.left);
		size_t len = lf ? (size_t)(lf - in.p) : in.left;

		one_line(in.p, len, &out);
		in.p += len + (lf != NULL);
		in.left -= len + (lf != NULL);
	}
	sbuf_free(&out);
	return 0;
}
