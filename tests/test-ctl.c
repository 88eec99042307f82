// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-ctl.c: the control socket's commands, VM-less, on vhost-uring-blk
 * and vhost-uring-scsi: after the front end completes a known mix of
 * reads, writes, flushes, discards and write-zeroes on two queues (and,
 * with fuse-faulty, one read the host fails), `stats` has exactly those
 * counts, per queue too, with exact bytes and histograms that sum to the
 * ops; Prometheus text that python3-prometheus-client reads, with the
 * same values; iotune get, set and remove round trips, all-or-nothing;
 * rescan after the image grew; info's fields; vhost-uring-ctl's output
 * and exit statuses; and the socket's mode, group and path rules.  The engine
 * comes from $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_scsi.h>

#include "cli.h"
#include "ffs.h"
#include "harness.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define MIB		(1ull << 20)
#define IMG_SIZE	(64 * MIB)
#define NQ		2
#define REPLY_LEN	(1u << 20)
/* The queue index scsi requests are counted under: their vq index. */
#define SCSI_QBASE	2

static struct test_env env;
static char reply[REPLY_LEN];

enum { RD, WR, FL, DC, WZ, NKINDS };

static const char *const kind_name[NKINDS] = {
	"read", "write", "flush", "discard", "write_zeroes",
};
static const char *const ops_key[NKINDS] = {
	"read_ops", "write_ops", "flush_ops", "discard_ops", "write_zeroes_ops",
};

/* One request of the mix: on queue q (of the disk idx), bytes at off. */
struct op {
	unsigned int q;
	unsigned int kind;
	uint64_t off;
	uint32_t len;
	unsigned int disk;
};

/* What one disk's queue (or the whole disk) should count. */
struct counts {
	uint64_t ops[NKINDS];
	uint64_t read_bytes;
	uint64_t write_bytes;
	uint64_t errors;
};

/* The mix: both queues, every kind; disk 1 exists only on scsi. */
static const struct op mix[] = {
	{ 0, RD, 0, 4096, 0 }, { 0, RD, 4096, 4096, 0 }, { 0, RD, 8192, 4096, 0 },
	{ 0, WR, 1 * MIB, 8192, 0 }, { 0, WR, 2 * MIB, 8192, 0 },
	{ 0, FL, 0, 0, 0 }, { 0, DC, 4 * MIB, 4096, 0 },
	{ 0, WZ, 5 * MIB, 4096, 0 },
	{ 1, RD, 0, 512, 0 }, { 1, RD, 512, 512, 0 }, { 1, WR, 3 * MIB, 4096, 0 },
	{ 1, FL, 0, 0, 0 }, { 1, WZ, 6 * MIB, 8192, 0 },
	{ 1, RD, 0, 4096, 1 }, { 1, WR, 1 * MIB, 512, 1 }, { 0, DC, 2 * MIB, 8192, 1 },
	{ 0, WZ, 3 * MIB, 512, 1 }, { 1, FL, 0, 0, 1 }, { 0, RD, 8192, 2048, 1 },
};

static void count_op(struct counts *c, const struct op *o)
{
	c->ops[o->kind]++;
	if (o->kind == RD)
		c->read_bytes += o->len;
	if (o->kind == WR)
		c->write_bytes += o->len;
}

/* ---- the front end's requests ------------------------------------------- */

static int blk_op(struct blkc *c, const struct op *o)
{
	static const uint32_t type[NKINDS] = {
		VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
		VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
	};
	struct virtio_blk_discard_write_zeroes seg = {
		.sector = htole64(o->off / 512),
		.num_sectors = htole32(o->len / 512),
	};
	struct blkc_res r = { 0xff, 0 };
	uint64_t sector = o->kind == RD || o->kind == WR ? o->off / 512 : 0;
	size_t len = o->kind == RD || o->kind == WR ? o->len : 0;

	if (o->kind == DC || o->kind == WZ) {
		memcpy(c->data, &seg, sizeof(seg));
		len = sizeof(seg);
	} else if (o->kind == WR) {
		pattern(c->data, len, o->q);
	}
	if (blkc_req(c, o->q, type[o->kind], sector, len, o->kind == RD, false,
		     &r) < 0)
		return -1;
	return r.status == VIRTIO_BLK_S_OK ? 0 : -1;
}

static void cdb_set(uint8_t *cdb, unsigned int size, uint8_t op, uint64_t lba,
		    uint32_t n)
{
	uint32_t lba32 = htobe32((uint32_t)lba), n32 = htobe32(n);
	uint64_t lba64 = htobe64(lba);
	uint16_t n16 = htobe16((uint16_t)n);

	memset(cdb, 0, size);
	cdb[0] = op;
	if (size == 10) {
		memcpy(cdb + 2, &lba32, 4);
		memcpy(cdb + 7, &n16, 2);
	} else {
		memcpy(cdb + 2, &lba64, 8);
		memcpy(cdb + 10, &n32, 4);
	}
}

/* An UNMAP parameter list of one descriptor, in c->dout. */
static uint32_t unmap_list(struct scsic *c, uint64_t lba, uint32_t n)
{
	uint16_t l22 = htobe16(22), l16 = htobe16(16);
	uint64_t lba64 = htobe64(lba);
	uint32_t n32 = htobe32(n);

	memset(c->dout, 0, 24);
	memcpy(c->dout, &l22, 2);
	memcpy(c->dout + 2, &l16, 2);
	memcpy(c->dout + 8, &lba64, 8);
	memcpy(c->dout + 16, &n32, 4);
	return 24;
}

static int scsi_op(struct scsic *c, const struct op *o, unsigned int lun_nr)
{
	uint32_t n = o->len / 512, out = 0, in = 0;
	unsigned int size = 10;
	struct scsic_res r;
	uint8_t lun[8], cdb[16];
	int ret;

	scsic_lun(lun, 0, lun_nr);
	c->rq = o->q;
	switch (o->kind) {
	case RD:
		cdb_set(cdb, 10, 0x28, o->off / 512, n);
		in = o->len;
		break;
	case WR:
		cdb_set(cdb, 10, 0x2a, o->off / 512, n);
		pattern(c->dout, o->len, o->q);
		out = o->len;
		break;
	case FL:
		cdb_set(cdb, 10, 0x35, 0, 0);
		break;
	case DC:
		cdb_set(cdb, 10, 0x42, 0, 0);
		out = unmap_list(c, o->off / 512, n);
		cdb[7] = 0;
		cdb[8] = (uint8_t)out;
		break;
	default:
		cdb_set(cdb, 16, 0x93, o->off / 512, n);	/* WRITE SAME(16) */
		memset(c->dout, 0, 512);
		out = 512;
		size = 16;
		break;
	}
	ret = scsic_cmd(c, lun, cdb, size, out, in, &r);
	if (ret == 0 && (r.response != VIRTIO_SCSI_S_OK || r.status != 0))
		tap_diag("%s on LUN %u: response %u status 0x%02x sense key 0x%x",
			 kind_name[o->kind], lun_nr, r.response, r.status,
			 r.sense[2] & 0xf);
	return ret == 0 && r.response == VIRTIO_SCSI_S_OK && r.status == 0 ? 0 : -1;
}

/* ---- checking the counts -------------------------------------------------- */

static void check_counters(struct verdict *v, const struct json_node *o,
			   const struct counts *c, const char *who)
{
	for (unsigned int k = 0; k < NKINDS; k++)
		verdict_check(v, json_u64_at(o, ops_key[k]) == c->ops[k],
			      "%s: %s is %llu, not %llu", who, ops_key[k],
			      (unsigned long long)json_u64_at(o, ops_key[k]),
			      (unsigned long long)c->ops[k]);
	verdict_check(v, json_u64_at(o, "read_bytes") == c->read_bytes &&
		      json_u64_at(o, "write_bytes") == c->write_bytes,
		      "%s: read_bytes %llu write_bytes %llu, not %llu and %llu", who,
		      (unsigned long long)json_u64_at(o, "read_bytes"),
		      (unsigned long long)json_u64_at(o, "write_bytes"),
		      (unsigned long long)c->read_bytes,
		      (unsigned long long)c->write_bytes);
	verdict_check(v, json_u64_at(o, "errors") == c->errors,
		      "%s: errors is %llu, not %llu", who,
		      (unsigned long long)json_u64_at(o, "errors"),
		      (unsigned long long)c->errors);
}

static bool any_ops(const struct counts *c)
{
	return c->ops[RD] || c->ops[WR] || c->ops[FL] || c->ops[DC] ||
	       c->ops[WZ] || c->errors;
}

/* The entry of "queues" for queue q, or NULL. */
static const struct json_node *queue_entry(const struct json_node *disk,
					   unsigned int q)
{
	const struct json_node *qs = json_at(disk, "queues");

	for (const struct json_node *e = qs ? qs->child : NULL; e; e = e->next) {
		if (json_u64_at(e, "queue") == q)
			return e;
	}
	return NULL;
}

static void check_queues(struct verdict *v, const struct json_node *disk,
			 const struct counts *q, unsigned int qbase,
			 const char *who)
{
	const struct json_node *qs = json_at(disk, "queues");
	unsigned int active = 0;
	char name[64];

	for (unsigned int i = 0; i < NQ; i++) {
		const struct json_node *e = queue_entry(disk, qbase + i);

		snprintf(name, sizeof(name), "%s queue %u", who, qbase + i);
		if (!any_ops(&q[i]))
			continue;
		active++;
		if (verdict_check(v, e != NULL, "%s is not listed", name))
			check_counters(v, e, &q[i], name);
	}
	verdict_check(v, qs && qs->type == JSON_ARRAY && qs->n == active,
		      "%s: %u queues listed, not %u (only those that did anything)",
		      who, qs ? qs->n : 0, active);
}

static void check_histograms(struct verdict *v, const struct json_node *disk,
			     const struct counts *c, const char *who)
{
	char path[64];

	for (unsigned int k = 0; k < NKINDS; k++) {
		const struct json_node *b;
		uint64_t sum = 0;

		snprintf(path, sizeof(path), "latency_us.%s", kind_name[k]);
		b = json_at(disk, path);
		verdict_check(v, json_u64_at(b, "count") == c->ops[k],
			      "%s: %s histogram count %llu, not %llu", who,
			      kind_name[k], (unsigned long long)json_u64_at(b, "count"),
			      (unsigned long long)c->ops[k]);
		b = json_at(b, "buckets");
		for (b = b ? b->child : NULL; b; b = b->next)
			sum += json_u64_at(b, "count");
		verdict_check(v, sum == c->ops[k],
			      "%s: %s histogram buckets sum to %llu, not %llu", who,
			      kind_name[k], (unsigned long long)sum,
			      (unsigned long long)c->ops[k]);
	}
}

/* One disk's statistics object against what the mix did to it. */
static void check_disk(const struct json_node *disk, const struct counts *tot,
		       const struct counts *q, unsigned int qbase,
		       const char *who)
{
	struct verdict v = { { 0 } };

	check_counters(&v, disk, tot, who);
	if (!ok(!v.fail[0], "%s: stats totals are exact", who))
		tap_diag("%s", v.fail);
	memset(&v, 0, sizeof(v));
	check_queues(&v, disk, q, qbase, who);
	if (!ok(!v.fail[0], "%s: stats per queue are exact", who))
		tap_diag("%s", v.fail);
	memset(&v, 0, sizeof(v));
	check_histograms(&v, disk, tot, who);
	if (!ok(!v.fail[0], "%s: each latency histogram sums to its ops", who))
		tap_diag("%s", v.fail);
}

/* ---- requests on the control socket --------------------------------------- */

/* Send line; the parsed reply (freed by the caller), which is never NULL. */
static struct ctl_json *rpc(const struct daemon *d, const char *line)
{
	if (ctl_request(d, line, reply, sizeof(reply)) < 0)
		snprintf(reply, sizeof(reply), "(no reply)");
	return ctl_json_parse(reply);
}

static bool rpc_error_is(const struct daemon *d, const char *line, int code,
			 const char *msg)
{
	struct ctl_json *j = rpc(d, line);
	const struct json_node *c = json_at(j->root, "error.code");
	int64_t got = 0;
	bool good = c && json_int64(c, &got) == 0 && got == code &&
		    strstr(json_str_at(j->root, "error.message"), msg);

	if (!good)
		tap_diag("%s -> %s", line, reply);
	ctl_json_free(j);
	return good;
}

/* iotune with lun_param ("" or "\"lun\":N") and set ({...} or NULL). */
static struct ctl_json *iotune(const struct daemon *d, const char *lun_param,
			       const char *set)
{
	char line[512];

	snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"iotune\",\"params\":{%s%s%s%s}}",
		 lun_param, *lun_param && set ? "," : "", set ? "\"set\":" : "",
		 set ? set : "");
	return rpc(d, line);
}

/*
 * Are the limits in j's result as want says ("KEY=N,KEY=N", each key's
 * value; the others not looked at)?
 */
static bool limits_are(const struct ctl_json *j, const char *want)
{
	char key[64], path[96];
	unsigned long long v;
	int n;

	while (sscanf(want, "%63[a-z_]=%llu%n", key, &v, &n) == 2) {
		snprintf(path, sizeof(path), "result.limits.%s", key);
		if (json_u64_at(j->root, path) != v)
			return false;
		want += n + (want[n] == ',');
	}
	return !*want;
}

/* iotune: get, set, remove, and a refused set that changes nothing. */
static void test_iotune(const struct daemon *d, const char *lun_param,
			const char *who)
{
	struct ctl_json *j = iotune(d, lun_param, NULL);
	int64_t code = 0;
	bool good = json_at(j->root, "result.limits") &&
		    json_at(j->root, "result.limits")->n == 19 &&
		    limits_are(j, "total_iops_sec=0,read_bytes_sec=0");

	ctl_json_free(j);
	ok(good, "%s: iotune lists the 19 keys, none set", who);
	ctl_json_free(iotune(d, lun_param, "{\"total_iops_sec\":\"5000\",\"read_bytes_sec\":1048576,\"read_bytes_sec_max\":2097152}"));
	j = iotune(d, lun_param, NULL);
	good = limits_are(j, "total_iops_sec=5000,read_bytes_sec=1048576,read_bytes_sec_max=2097152,write_iops_sec=0");
	ctl_json_free(j);
	ok(good, "%s: iotune set (a string and integers) reads back", who);
	j = iotune(d, lun_param, "{\"write_iops_sec\":7,\"read_iops_sec\":8}");
	good = json_int64(json_at(j->root, "error.code"), &code) == 0 &&
	       code == -32602 &&
	       strstr(json_str_at(j->root, "error.message"), "total_iops_sec");
	ctl_json_free(j);
	j = iotune(d, lun_param, NULL);
	good = good && limits_are(j, "write_iops_sec=0,read_iops_sec=0,total_iops_sec=5000");
	ctl_json_free(j);
	ok(good, "%s: a set that breaks QEMU's rules is refused (-32602) and changes nothing", who);
	j = iotune(d, lun_param, "{\"total_iops_sec\":0,\"read_bytes_sec\":\"0\",\"read_bytes_sec_max\":0}");
	good = limits_are(j, "total_iops_sec=0,read_bytes_sec=0,read_bytes_sec_max=0");
	ctl_json_free(j);
	ok(good, "%s: 0 removes the limits (the reply has the new limits)", who);
}

/* ---- Prometheus, read by a parser that is not ours ----------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
}

static void test_prometheus(const struct daemon *d, const char *who)
{
	const char *fmt[] = { "stats", "--format=prometheus", NULL };
	const char *js[] = { "stats", NULL };
	char prom[512], json[512], script[512], *out = malloc(REPLY_LEN);
	int st1, st2, st3;

	snprintf(prom, sizeof(prom), "%s/%s.prom", harness_dir(), who);
	snprintf(json, sizeof(json), "%s/%s.json", harness_dir(), who);
	snprintf(script, sizeof(script), "%s/tests/prom-check.py",
		 getenv("top_srcdir") ? getenv("top_srcdir") : "..");
	st1 = run_ctl(d, fmt, out, REPLY_LEN, NULL, 0);
	write_file(prom, out);
	ok(st1 == 0 && !strncmp(out, "# HELP ", 7),
	   "%s: vhost-uring-ctl stats --format=prometheus prints the text as is (exit %d)",
	   who, st1);
	st2 = run_ctl(d, js, out, REPLY_LEN, NULL, 0);
	write_file(json, out);
	{
		/* Debian's python3, where python3-prometheus-client goes. */
		const char *py = access("/usr/bin/python3", X_OK) ? "python3" :
				 "/usr/bin/python3";
		const char *argv[] = { py, script, prom, json, NULL };

		st3 = run_cmd(argv, out, REPLY_LEN);
	}
	if (!ok(st2 == 0 && st3 == 0,
		"%s: python3-prometheus-client reads the text: names, labels, _total, HELP and TYPE, values as in the JSON",
		who)) {
		for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
			tap_diag("%s", l);
	}
	free(out);
}

/* ---- vhost-uring-ctl's exit statuses ---------------------------------------- */

static void test_ctl_program(const struct daemon *d, bool scsi)
{
	const char *info[] = { "info", NULL };
	const char *bad_lun[] = { "iotune", "--lun=7", NULL };
	const char *bad_key[] = { "iotune", scsi ? "--lun=0" : "info", "nope=1", NULL };
	const char *usage[] = { "stats", "--format=xml", NULL };
	const char *extra[] = { "rescan", "now", NULL };
	char out[8192], err[1024];
	struct daemon gone = *d;
	int st;

	st = run_ctl(d, info, out, sizeof(out), err, sizeof(err));
	ok(st == 0 && out[0] == '{' && strchr(out, '\n') == out + strlen(out) - 1 &&
	   strstr(out, "\"version\":\"" PACKAGE_VERSION "\""),
	   "vhost-uring-ctl info: exit 0, one line of JSON (exit %d)", st);
	st = run_ctl(d, bad_lun, out, sizeof(out), err, sizeof(err));
	ok(st == 1 && strstr(err, scsi ? "no LUN 7" : "no LUNs") && !out[0],
	   "an error reply: exit 1, its message on stderr (%d: %s)", st, err);
	if (scsi) {
		st = run_ctl(d, bad_key, out, sizeof(out), err, sizeof(err));
		ok(st == 1 && strstr(err, "unknown key 'nope'"),
		   "iotune KEY=VALUE with an unknown key: exit 1 (%d: %s)", st, err);
	}
	st = run_ctl(d, usage, out, sizeof(out), err, sizeof(err));
	ok(st == 2 && strstr(err, "--format=xml"), "a usage error: exit 2 (%d: %s)",
	   st, err);
	st = run_ctl(d, extra, out, sizeof(out), err, sizeof(err));
	ok(st == 2, "rescan with an argument: exit 2 (%d)", st);
	snprintf(gone.ctl, sizeof(gone.ctl), "%s/nothing-here.ctl", harness_dir());
	st = run_ctl(&gone, info, out, sizeof(out), err, sizeof(err));
	ok(st == 3 && strstr(err, "cannot connect"),
	   "no daemon at the socket: exit 3 (%d: %s)", st, err);
}

/* ---- info and rescan ------------------------------------------------------- */

static void test_info(const struct daemon *d, const char *device,
		      unsigned int running, const char *img)
{
	struct ctl_json *j = rpc(d, "{\"jsonrpc\":\"2.0\",\"id\":\"info\",\"method\":\"info\"}");
	const struct json_node *r = json_at(j->root, "result");
	struct verdict v = { { 0 } };

	verdict_check(&v, !strcmp(json_str_at(j->root, "id"), "info"),
		      "the reply's id is not the string \"info\"");
	verdict_check(&v, !strcmp(json_str_at(r, "device"), device) &&
		      !strcmp(json_str_at(r, "version"), PACKAGE_VERSION),
		      "device or version");
	verdict_check(&v, !strcmp(json_str_at(r, "engine"), env.aio),
		      "engine is \"%s\", not %s", json_str_at(r, "engine"), env.aio);
	verdict_check(&v, json_u64_at(r, "threads") == 1 &&
		      json_u64_at(r, "poll_us") == CLI_POLL_US_DEFAULT &&
		      json_u64_at(r, "uptime_s") < 120, "threads, poll_us, uptime_s");
	verdict_check(&v, json_at(r, "front_end") &&
		      json_at(r, "front_end")->type == JSON_TRUE, "front_end is not true");
	verdict_check(&v, !strncmp(json_str_at(r, "features"), "0x", 2) &&
		      strtoull(json_str_at(r, "features"), NULL, 16) & BIT_ULL(32) &&
		      strtoull(json_str_at(r, "protocol_features"), NULL, 16),
		      "features %s (VERSION_1 missing) or protocol_features %s",
		      json_str_at(r, "features"), json_str_at(r, "protocol_features"));
	verdict_check(&v, json_u64_at(r, "queues.running") == running &&
		      json_u64_at(r, "queues.max") == running,
		      "queues.running is %llu, not %u",
		      (unsigned long long)json_u64_at(r, "queues.running"), running);
	verdict_check(&v, !strcmp(json_str_at(r, "disks.0.path"), img),
		      "disks.0.path is not %s", img);
	verdict_check(&v, !strcmp(json_str_at(r, "disks.0.cache"), "none") &&
		      json_at(r, "disks.0.read_only") &&
		      json_at(r, "disks.0.read_only")->type == JSON_FALSE &&
		      json_at(r, "disks.0.in_memory") &&
		      json_at(r, "disks.0.in_memory")->type == JSON_FALSE &&
		      json_u64_at(r, "disks.0.size_bytes") == IMG_SIZE,
		      "disks.0: cache, read_only, in_memory or size_bytes");
	verdict_check(&v, !strcmp(device, "blk") ? !json_at(r, "disks.0.lun") :
		      json_u64_at(r, "disks.1.lun") == 2, "disks' lun");
	if (!ok(!v.fail[0], "%s: info: device, version, engine, threads, front end, features, queues, disks", device))
		tap_diag("%s (%s)", v.fail, reply);
	ctl_json_free(j);
}

/* Grow img, rescan: info has the new size. */
static void test_rescan(const struct daemon *d, const char *img,
			const char *size_path, const char *who)
{
	struct ctl_json *j;
	bool good;

	if (truncate(img, IMG_SIZE + 32 * MIB) < 0) {
		perror(img);
		exit(99);
	}
	j = rpc(d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rescan\",\"params\":{}}");
	good = json_at(j->root, "result.rescanned") &&
	       json_at(j->root, "result.rescanned")->type == JSON_TRUE;
	ctl_json_free(j);
	j = rpc(d, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"info\"}");
	good = good && json_u64_at(j->root, size_path) == IMG_SIZE + 32 * MIB;
	ctl_json_free(j);
	ok(good, "%s: rescan after the image grew: rescanned, and info has the new size", who);
}

/* ---- the devices ------------------------------------------------------------ */

static uint64_t blk_pf(void)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
	       BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
}

static void test_blk(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--num-queues=2", NULL };
	struct counts tot, q[NQ];
	struct ctl_json *j;
	struct daemon d;
	struct blkc c;
	struct stat st;
	unsigned int n = 0;
	bool good = true;

	memset(&tot, 0, sizeof(tot));
	memset(q, 0, sizeof(q));
	if (!ok(daemon_start_ctl(&d, blk_daemon_binary(), args) == 0,
		"blk: the daemon starts with a control socket"))
		return;
	ok(stat(d.ctl, &st) == 0 && S_ISSOCK(st.st_mode) &&
	   (st.st_mode & 0777) == 0600,
	   "blk: the control socket has mode 0600 by default");
	good = blkc_open(&c, d.sock, NQ, ~0ull, blk_pf()) == 0;
	for (unsigned int i = 0; good && i < ARRAY_SIZE(mix); i++) {
		if (mix[i].disk)
			continue;
		good = blk_op(&c, &mix[i]) == 0;
		count_op(&tot, &mix[i]);
		count_op(&q[mix[i].q], &mix[i]);
		n++;
	}
	ok(good, "blk: the front end's %u requests on 2 queues complete", n);
	j = rpc(&d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stats\"}");
	ok(!strcmp(json_str_at(j->root, "result.device"), "blk") &&
	   !strcmp(json_str_at(j->root, "result.disk"), env.img),
	   "blk: stats names the device and the disk at the top level");
	check_disk(json_at(j->root, "result"), &tot, q, 0, "blk");
	ctl_json_free(j);
	test_iotune(&d, "", "blk");
	test_info(&d, "blk", NQ, env.img);
	test_prometheus(&d, "blk");
	test_ctl_program(&d, false);
	test_rescan(&d, env.img, "result.disks.0.size_bytes", "blk");
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "blk: the daemon exits 0 (its sandbox refused nothing)");
}

static void test_scsi(void)
{
	char img[2][300], arg[2][340 + 300];
	const char *args[] = { arg[0], arg[1], env.aio_arg, "--num-queues=2", NULL };
	struct counts tot[2], q[2][NQ];
	const unsigned int lun_nr[2] = { 0, 2 };
	struct ctl_json *j;
	struct daemon d;
	struct scsic c;
	unsigned int n = 0;
	bool good;

	memset(tot, 0, sizeof(tot));
	memset(q, 0, sizeof(q));
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(img[i], sizeof(img[i]), "%s/lun%u.img", harness_dir(), lun_nr[i]);
		snprintf(arg[i], sizeof(arg[i]), "--lun=%u,file=%s", lun_nr[i], img[i]);
		image_create(img[i], IMG_SIZE);
	}
	if (!ok(daemon_start_ctl(&d, scsi_daemon_binary(), args) == 0,
		"scsi: the daemon starts with a control socket"))
		return;
	good = scsic_open(&c, d.sock, NQ, ~0ull) == 0;
	/* Each LUN's first command gets its power-on unit attention. */
	for (unsigned int i = 0; good && i < 2; i++) {
		uint8_t lun[8], tur[6] = { 0 };
		struct scsic_res r;

		scsic_lun(lun, 0, lun_nr[i]);
		scsic_cmd(&c, lun, tur, 6, 0, 0, &r);
	}
	for (unsigned int i = 0; good && i < ARRAY_SIZE(mix); i++) {
		const struct op *o = &mix[i];

		good = scsi_op(&c, o, lun_nr[o->disk]) == 0;
		count_op(&tot[o->disk], o);
		count_op(&q[o->disk][o->q], o);
		n++;
	}
	ok(good, "scsi: the front end's %u commands on 2 LUNs and 2 queues complete", n);
	j = rpc(&d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stats\",\"params\":{\"format\":\"json\"}}");
	ok(!strcmp(json_str_at(j->root, "result.device"), "scsi") &&
	   json_u64_at(j->root, "result.luns.0.lun") == 0 &&
	   json_u64_at(j->root, "result.luns.1.lun") == 2 &&
	   !strcmp(json_str_at(j->root, "result.luns.1.disk"), img[1]),
	   "scsi: stats lists LUNs 0 and 2 with their disks");
	check_disk(json_at(j->root, "result.luns.0"), &tot[0], q[0], SCSI_QBASE, "scsi LUN 0");
	check_disk(json_at(j->root, "result.luns.1"), &tot[1], q[1], SCSI_QBASE, "scsi LUN 2");
	ctl_json_free(j);
	test_iotune(&d, "\"lun\":2", "scsi LUN 2");
	ok(rpc_error_is(&d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"iotune\",\"params\":{\"set\":{\"total_iops_sec\":1}}}",
			-32602, "needs \"lun\""),
	   "scsi: iotune set without a LUN is refused (-32602)");
	j = rpc(&d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"iotune\"}");
	ok(json_u64_at(j->root, "result.luns.1.lun") == 2 &&
	   json_at(j->root, "result.luns.1.limits") &&
	   json_at(j->root, "result.luns.1.limits")->n == 19,
	   "scsi: iotune without a LUN lists every LUN's limits");
	ctl_json_free(j);
	test_info(&d, "scsi", NQ + 2, img[0]);
	test_prometheus(&d, "scsi");
	test_ctl_program(&d, true);
	test_rescan(&d, img[1], "result.disks.1.size_bytes", "scsi LUN 2");
	scsic_close(&c);
	ok(daemon_stop(&d) == 0, "scsi: the daemon exits 0 (its sandbox refused nothing)");
}

/* A read the host fails (fuse-faulty's EIO range) counts as an error. */
static void test_host_error(void)
{
	struct ffs_conf conf = { .name = "eio", .size = IMG_SIZE,
				 .eio_off = 8 * MIB, .nospc_off = IMG_SIZE };
	const char *args[] = { NULL, env.aio_arg, "--cache=writeback", NULL };
	struct op good_rd = { 0, RD, 0, 4096, 0 }, bad_rd = { 0, RD, 8 * MIB, 4096, 0 };
	struct ctl_json *j;
	struct daemon d;
	struct blkc c;
	struct ffs m;
	bool good;

	if (ffs_mount(&m, &conf) < 0) {
		ok(false, "fuse-faulty mounts (needs fuse3): %s", m.why);
		return;
	}
	args[0] = m.img_arg;
	good = daemon_start_ctl(&d, blk_daemon_binary(), args) == 0 &&
	       blkc_open(&c, d.sock, 1, ~0ull, blk_pf()) == 0;
	good = good && blk_op(&c, &good_rd) == 0 && blk_op(&c, &bad_rd) < 0;
	ok(good, "a read of fuse-faulty's EIO range fails, one beside it works");
	j = rpc(&d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stats\"}");
	ok(json_u64_at(j->root, "result.read_ops") == 1 &&
	   json_u64_at(j->root, "result.errors") == 1 &&
	   json_u64_at(j->root, "result.read_bytes") == 4096 &&
	   json_u64_at(j->root, "result.queues.0.errors") == 1,
	   "stats: the failed read is an error, not a read (also on its queue)");
	ctl_json_free(j);
	blkc_close(&c);
	daemon_stop(&d);
	ffs_stop(&m);
}

/* A control socket at path: a daemon with args and --control-socket=path. */
static int start_at(struct daemon *d, const char *path, const char *mode)
{
	char ctl_arg[340], mode_arg[64];
	const char *args[] = { env.img_arg, env.aio_arg, ctl_arg, mode_arg, NULL };

	snprintf(ctl_arg, sizeof(ctl_arg), "--control-socket=%s", path);
	snprintf(mode_arg, sizeof(mode_arg), "--socket-mode=%s", mode);
	if (daemon_start_bin(d, blk_daemon_binary(), args) < 0)
		return -1;
	snprintf(d->ctl, sizeof(d->ctl), "%s", path);
	return 0;
}

/* --socket-mode, a stale socket replaced, one in use refused. */
static void test_socket_rules(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct daemon d, d2;
	char path[sizeof(sa.sun_path)], buf[4096];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%.90s/rules.ctl", harness_dir());
	memcpy(sa.sun_path, path, sizeof(path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("stale socket");
		exit(99);
	}
	close(fd);	/* a socket file nobody listens on */
	if (!ok(start_at(&d, path, "0640") == 0, "a daemon starts over a stale control socket"))
		return;
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
	   "the control socket takes --socket-mode (0640)");
	ok(ctl_request(&d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"info\"}", buf, sizeof(buf)) > 0,
	   "and answers on it");
	ok(start_at(&d2, path, "0600") < 0 && daemon_log_has(&d2, "is in use"),
	   "a second daemon on the same control socket is refused (\"in use\")");
	ok(ctl_request(&d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"info\"}", buf, sizeof(buf)) > 0,
	   "the first one still answers");
	ok(daemon_stop(&d) == 0 && stat(path, &st) < 0,
	   "SIGTERM: exit 0 and the control socket is removed");
}

/* One line on stderr, containing s, and exit status 1. */
static bool refused(const char *bin, const char *const *args, const char *s)
{
	char err[4096];

	return run_daemon_cmd_bin(bin, args, err, sizeof(err)) == 1 &&
	       strchr(err, '\n') == err + strlen(err) - 1 && strstr(err, s);
}

/* Stat path: its group is gid and its mode is mode. */
static bool has_perm(const char *path, gid_t gid, mode_t mode)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	if (st.st_gid != gid || (st.st_mode & 0777) != mode)
		tap_diag("%s: group %u, mode %04o", path, (unsigned int)st.st_gid,
			 st.st_mode & 0777);
	return st.st_gid == gid && (st.st_mode & 0777) == mode;
}

/*
 * --socket-group on both sockets, by number (one that is not ours when we
 * are root) and by name; mode 0660 unless --socket-mode says otherwise; an
 * unknown group refused by both daemons.
 */
static void test_socket_group(void)
{
	gid_t gid = geteuid() == 0 ? getegid() + 4242 : getegid();
	struct group *g = getgrgid(getegid());
	char num_arg[64], name_arg[300];
	const char *by_num[] = { env.img_arg, env.aio_arg, num_arg, NULL };
	const char *by_name[] = { env.img_arg, env.aio_arg, name_arg,
				  "--socket-mode=0640", NULL };
	const char *bad[] = { "--socket-path=/tmp/x", env.img_arg,
			      "--socket-group=no-such-group.vu", NULL };
	const char *bad_scsi[] = { "--socket-path=/tmp/x",
				   "--socket-group=no-such-group.vu", NULL };
	struct daemon d;

	snprintf(num_arg, sizeof(num_arg), "--socket-group=%u", (unsigned int)gid);
	if (ok(daemon_start_ctl(&d, blk_daemon_binary(), by_num) == 0,
	       "a daemon with %s starts", num_arg)) {
		ok(has_perm(d.sock, gid, 0660),
		   "%s: the socket gets that group and mode 0660", num_arg);
		ok(has_perm(d.ctl, gid, 0660),
		   "and so does the control socket");
		daemon_stop(&d);
	}
	snprintf(name_arg, sizeof(name_arg), "--socket-group=%s",
		 g ? g->gr_name : "root");
	if (ok(g && daemon_start_ctl(&d, blk_daemon_binary(), by_name) == 0,
	       "a daemon with %s --socket-mode=0640 starts", name_arg)) {
		ok(has_perm(d.sock, getegid(), 0640) && has_perm(d.ctl, getegid(), 0640),
		   "a group by name; an explicit --socket-mode wins over 0660");
		daemon_stop(&d);
	}
	ok(refused(blk_daemon_binary(), bad, "--socket-group=no-such-group.vu: no such group"),
	   "vhost-uring-blk: an unknown group exits 1 with one line");
	ok(refused(scsi_daemon_binary(), bad_scsi, "--socket-group=no-such-group.vu: no such group"),
	   "vhost-uring-scsi: an unknown group exits 1 with one line");
}

int main(void)
{
	if (!test_env_init(&env, IMG_SIZE))
		return 0;
	test_blk();
	test_scsi();
	test_host_error();
	test_socket_rules();
	test_socket_group();
	harness_cleanup();
	return tap_done();
}
