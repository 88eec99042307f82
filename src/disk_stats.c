// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * disk_stats.c: a disk's counts and limits as text for the control
 * socket: JSON members, and the Prometheus text exposition format
 * (version 0.0.4: HELP and TYPE once per family, counters ending in
 * _total, one latency histogram per kind of request).  Control thread.
 */
#include <inttypes.h>
#include <string.h>

#include "disk_io.h"
#include "util.h"

static const char *const kind_name[DISK_NKINDS] = {
	[DISK_READ] = "read",
	[DISK_WRITE] = "write",
	[DISK_FLUSH] = "flush",
	[DISK_DISCARD] = "discard",
	[DISK_WRITE_ZEROES] = "write_zeroes",
};

/* The counters, in the order both formats list them. */
enum { NCOUNTERS = 8 };

static const char *const counter_name[NCOUNTERS] = {
	"read_ops", "write_ops", "read_bytes", "write_bytes",
	"flush_ops", "discard_ops", "write_zeroes_ops", "errors",
};

static const char *const counter_help[NCOUNTERS] = {
	"Reads completed without error.",
	"Writes completed without error.",
	"Bytes read by reads completed without error.",
	"Bytes written by writes completed without error.",
	"Flushes completed without error.",
	"Discards completed without error.",
	"Write-zeroes requests completed without error.",
	"Requests of any kind that failed on the host.",
};

static void counter_values(const struct disk_counts *c, uint64_t v[NCOUNTERS])
{
	v[0] = c->k[DISK_READ].ops;
	v[1] = c->k[DISK_WRITE].ops;
	v[2] = c->k[DISK_READ].bytes;
	v[3] = c->k[DISK_WRITE].bytes;
	v[4] = c->k[DISK_FLUSH].ops;
	v[5] = c->k[DISK_DISCARD].ops;
	v[6] = c->k[DISK_WRITE_ZEROES].ops;
	v[7] = c->errors;
}

static bool any(const uint64_t v[NCOUNTERS])
{
	for (unsigned int i = 0; i < NCOUNTERS; i++) {
		if (v[i])
			return true;
	}
	return false;
}

/* ---- reading the counts (each queue's thread writes its own) -------- */

static uint64_t get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The whole disk's counts: every queue's, summed. */
static void disk_counts_get(const struct disk *d, struct disk_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int q = 0; q < d->nq; q++) {
		const struct disk_counts *c = &d->q[q].c;

		for (unsigned int k = 0; k < DISK_NKINDS; k++) {
			struct disk_kind_counts *o = &out->k[k];
			const struct disk_kind_counts *i = &c->k[k];

			o->ops += get(&i->ops);
			o->bytes += get(&i->bytes);
			o->lat_sum_ns += get(&i->lat_sum_ns);
			for (unsigned int b = 0; b < DISK_LAT_BUCKETS; b++)
				o->lat[b] += get(&i->lat[b]);
		}
		out->errors += get(&c->errors);
	}
}

/* Queue q's counters, without reading its histograms. */
static void queue_values(const struct disk *d, unsigned int q,
			 uint64_t v[NCOUNTERS])
{
	const struct disk_counts *c = &d->q[q].c;
	struct disk_counts s;

	for (unsigned int k = 0; k < DISK_NKINDS; k++) {
		s.k[k].ops = get(&c->k[k].ops);
		s.k[k].bytes = get(&c->k[k].bytes);
	}
	s.errors = get(&c->errors);
	counter_values(&s, v);
}

/* The upper bound of histogram bucket b in microseconds (0: none). */
static uint64_t bucket_le_us(unsigned int b)
{
	return b < DISK_LAT_BUCKETS - 1 ? 1ull << b : 0;
}

/* ---- JSON ----------------------------------------------------------- */

static void json_counters(const uint64_t v[NCOUNTERS], struct sbuf *o)
{
	for (unsigned int i = 0; i < NCOUNTERS; i++)
		sbuf_printf(o, "%s\"%s\":%" PRIu64, i ? "," : "",
			    counter_name[i], v[i]);
}

static void json_histogram(const struct disk_counts *c, unsigned int k,
			   struct sbuf *o)
{
	sbuf_printf(o, "\"%s\":{\"count\":%" PRIu64 ",\"sum_us\":%" PRIu64
		    ",\"buckets\":[", kind_name[k], c->k[k].ops,
		    c->k[k].lat_sum_ns / 1000);
	for (unsigned int b = 0; b < DISK_LAT_BUCKETS; b++) {
		uint64_t le = bucket_le_us(b);

		if (le)
			sbuf_printf(o, "%s{\"lt_us\":%" PRIu64 ",\"count\":%" PRIu64 "}",
				    b ? "," : "", le, c->k[k].lat[b]);
		else
			sbuf_printf(o, ",{\"lt_us\":null,\"count\":%" PRIu64 "}",
				    c->k[k].lat[b]);
	}
	sbuf_puts(o, "]}");
}

void disk_stats_json(const struct disk *d, struct sbuf *o)
{
	struct disk_counts c;
	uint64_t v[NCOUNTERS];
	bool first = true;

	disk_counts_get(d, &c);
	counter_values(&c, v);
	sbuf_puts(o, "\"disk\":");
	sbuf_json_str(o, d->path);
	sbuf_puts(o, ",");
	json_counters(v, o);
	sbuf_puts(o, ",\"queues\":[");
	for (unsigned int q = 0; q < d->nq; q++) {
		uint64_t qv[NCOUNTERS];

		queue_values(d, q, qv);
		if (!any(qv))
			continue;
		sbuf_printf(o, "%s{\"queue\":%u,", first ? "" : ",", q);
		json_counters(qv, o);
		sbuf_puts(o, "}");
		first = false;
	}
	sbuf_puts(o, "],\"latency_us\":{");
	for (unsigned int k = 0; k < DISK_NKINDS; k++) {
		if (k)
			sbuf_puts(o, ",");
		json_histogram(&c, k, o);
	}
	sbuf_puts(o, "}");
}

void disk_limits_json(struct disk *d, struct sbuf *o)
{
	struct thr_config c;

	disk_limits_get(d, &c);
	sbuf_puts(o, "{");
	for (unsigned int i = 0; i < thr_nkeys(); i++)
		sbuf_printf(o, "%s\"%s\":%" PRIu64, i ? "," : "",
			    thr_key_name(i), thr_key_get(&c, i));
	sbuf_puts(o, "}");
}

/* ---- Prometheus ----------------------------------------------------- */

#define PROM_PREFIX "vhost_uring_"

/* A label value: backslash, double quote and newline escaped. */
static void prom_value(struct sbuf *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			sbuf_puts(o, "\\\\");
		else if (*s == '"')
			sbuf_puts(o, "\\\"");
		else if (*s == '\n')
			sbuf_puts(o, "\\n");
		else
			sbuf_add(o, s, 1);
	}
}

/* The labels every series of a disk has: device, disk and lun. */
static void prom_disk_labels(struct sbuf *o, const char *device,
			     const struct disk *d, int lun)
{
	sbuf_printf(o, "device=\"%s\",disk=\"", device);
	prom_value(o, d->path);
	sbuf_puts(o, "\"");
	if (lun >= 0)
		sbuf_printf(o, ",lun=\"%d\"", lun);
}

static void prom_counter(struct disk *const *d, const int *lun,
			 unsigned int n, const char *device, unsigned int i,
			 struct sbuf *o)
{
	sbuf_printf(o, "# HELP " PROM_PREFIX "%s_total %s\n", counter_name[i],
		    counter_help[i]);
	sbuf_printf(o, "# TYPE " PROM_PREFIX "%s_total counter\n",
		    counter_name[i]);
	for (unsigned int j = 0; j < n; j++) {
		for (unsigned int q = 0; q < d[j]->nq; q++) {
			uint64_t v[NCOUNTERS];

			queue_values(d[j], q, v);
			if (!any(v))
				continue;
			sbuf_printf(o, PROM_PREFIX "%s_total{", counter_name[i]);
			prom_disk_labels(o, device, d[j], lun[j]);
			sbuf_printf(o, ",queue=\"%u\"} %" PRIu64 "\n", q, v[i]);
		}
	}
}

static void prom_histogram(const struct disk *d, int lun, const char *device,
			   const struct disk_counts *c, unsigned int k,
			   struct sbuf *o)
{
	uint64_t cum = 0;

	for (unsigned int b = 0; b < DISK_LAT_BUCKETS; b++) {
		uint64_t le = bucket_le_us(b);

		cum += c->k[k].lat[b];
		sbuf_puts(o, PROM_PREFIX "request_latency_seconds_bucket{");
		prom_disk_labels(o, device, d, lun);
		sbuf_printf(o, ",kind=\"%s\",le=\"", kind_name[k]);
		if (le)
			sbuf_printf(o, "%" PRIu64 ".%06" PRIu64, le / 1000000,
				    le % 1000000);
		else
			sbuf_puts(o, "+Inf");
		sbuf_printf(o, "\"} %" PRIu64 "\n", cum);
	}
	sbuf_puts(o, PROM_PREFIX "request_latency_seconds_sum{");
	prom_disk_labels(o, device, d, lun);
	sbuf_printf(o, ",kind=\"%s\"} %" PRIu64 ".%09" PRIu64 "\n", kind_name[k],
		    c->k[k].lat_sum_ns / 1000000000, c->k[k].lat_sum_ns % 1000000000);
	sbuf_puts(o, PROM_PREFIX "request_latency_seconds_count{");
	prom_disk_labels(o, device, d, lun);
	sbuf_printf(o, ",kind=\"%s\"} %" PRIu64 "\n", kind_name[k], c->k[k].ops);
}

void disk_stats_prom(struct disk *const *d, const int *lun, unsigned int n,
		     const char *device, struct sbuf *o)
{
	for (unsigned int i = 0; i < NCOUNTERS; i++)
		prom_counter(d, lun, n, device, i, o);
	sbuf_puts(o, "# HELP " PROM_PREFIX "request_latency_seconds Time from a request's start on the disk to its completion, for requests completed without error.\n");
	sbuf_puts(o, "# TYPE " PROM_PREFIX "request_latency_seconds histogram\n");
	for (unsigned int j = 0; j < n; j++) {
		struct disk_counts c;

		disk_counts_get(d[j], &c);
		for (unsigned int k = 0; k < DISK_NKINDS; k++)
			prom_histogram(d[j], lun[j], device, &c, k, o);
	}
}
