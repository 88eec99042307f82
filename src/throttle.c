// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * throttle.c: the QoS limiter of throttle.h.  Owns libvirt's <iotune> key
 * names and their parsing, QEMU's consistency rules for a set of limits,
 * and QEMU's leaky-bucket arithmetic: how much each bucket leaks with
 * time, how long a request must wait, and what an admitted one adds.
 * Levels are doubles, as in QEMU, so that the arithmetic gives QEMU's
 * figures; the clock is whatever the caller passes in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "throttle.h"

#define NS_PER_SEC	1000000000.0

/*
 * The keys in libvirt's order: the averages, the burst rates and the
 * burst lengths, each group in the order of enum thr_bucket, then
 * size_iops_sec.  Key i of the first three groups belongs to bucket
 * i % THR_NBUCKETS.
 */
static const char *const key_names[] = {
	"total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
	"total_iops_sec", "read_iops_sec", "write_iops_sec",
	"total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
	"total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max",
	"total_bytes_sec_max_length", "read_bytes_sec_max_length",
	"write_bytes_sec_max_length", "total_iops_sec_max_length",
	"read_iops_sec_max_length", "write_iops_sec_max_length",
	"size_iops_sec",
};

#define NKEYS		(sizeof(key_names) / sizeof(key_names[0]))
#define KEY_MAX		THR_NBUCKETS		/* first *_max key */
#define KEY_LENGTH	(2 * THR_NBUCKETS)	/* first *_max_length key */
#define KEY_SIZE_IOPS	(3 * THR_NBUCKETS)

/* How much of a value a message quotes. */
#define QUOTE_MAX	32

static __attribute__((format(printf, 3, 4)))
int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

unsigned int thr_nkeys(void)
{
	return NKEYS;
}

const char *thr_key_name(unsigned int i)
{
	return i < NKEYS ? key_names[i] : NULL;
}

static uint64_t *key_ptr(struct thr_config *c, unsigned int i)
{
	struct thr_limit *l = &c->b[i % THR_NBUCKETS];

	if (i == KEY_SIZE_IOPS)
		return &c->size_iops;
	if (i >= KEY_LENGTH)
		return &l->max_length;
	if (i >= KEY_MAX)
		return &l->max;
	return &l->avg;
}

uint64_t thr_key_get(const struct thr_config *c, unsigned int i)
{
	if (i >= NKEYS)
		return 0;
	return *key_ptr((struct thr_config *)c, i);
}

/* ---- setting keys from text --------------------------------------------- */

static int find_key(const char *key, size_t len)
{
	unsigned int i;

	for (i = 0; i < NKEYS; i++) {
		if (strlen(key_names[i]) == len && !memcmp(key_names[i], key, len))
			return i;
	}
	return -1;
}

static int unknown_key(const char *key, size_t len, char *err, size_t errlen)
{
	int n = len > QUOTE_MAX ? QUOTE_MAX : len;

	if (len == strlen("group_name") && !memcmp(key, "group_name", len))
		return fail(err, errlen,
			    "group_name is not supported: limits are per disk, there are no throttle groups");
	return fail(err, errlen,
		    "unknown key '%.*s' (expected a libvirt <iotune> name such as total_iops_sec, read_bytes_sec_max or size_iops_sec)",
		    n, key);
}

/* The decimal integer in [0, THR_VALUE_MAX] that v is, or -1 with a message. */
static int parse_value(const char *name, const char *v, size_t len,
		       uint64_t *out, char *err, size_t errlen)
{
	int q = len > QUOTE_MAX ? QUOTE_MAX : len;
	uint64_t n = 0;
	size_t i;

	if (!len)
		return fail(err, errlen, "%s: empty value (expected an integer from 0 to %llu)",
			    name, THR_VALUE_MAX);
	if (v[0] == '-')
		return fail(err, errlen, "%s: '%.*s' is negative (expected an integer from 0 to %llu)",
			    name, q, v, THR_VALUE_MAX);
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(err, errlen,
				    "%s: '%.*s' is not a decimal integer (expected digits only, 0 to %llu)",
				    name, q, v, THR_VALUE_MAX);
	}
	for (i = 0; i < len; i++) {
		if (n > (THR_VALUE_MAX - (v[i] - '0')) / 10)
			return fail(err, errlen, "%s: '%.*s' is too big (at most %llu)",
				    name, q, v, THR_VALUE_MAX);
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
}

static int set_n(struct thr_config *c, const char *key, size_t klen,
		 const char *value, size_t vlen, char *err, size_t errlen)
{
	int i = find_key(key, klen);
	uint64_t n = 0;

	if (i < 0)
		return unknown_key(key, klen, err, errlen);
	if (parse_value(key_names[i], value, vlen, &n, err, errlen))
		return -1;
	*key_ptr(c, i) = n;
	return 0;
}

int thr_config_set(struct thr_config *c, const char *key, const char *value,
		   char *err, size_t errlen)
{
	return set_n(c, key, strlen(key), value, strlen(value), err, errlen);
}

/* One "KEY=VALUE" of len bytes at item, into c. */
static int parse_item(struct thr_config *c, const char *item, size_t len,
		      char *err, size_t errlen)
{
	const char *eq = memchr(item, '=', len);
	int q = len > QUOTE_MAX ? QUOTE_MAX : len;

	if (!len)
		return fail(err, errlen, "empty item in the list (expected KEY=VALUE[,KEY=VALUE...])");
	if (!eq)
		return fail(err, errlen, "'%.*s' is not KEY=VALUE", q, item);
	return set_n(c, item, eq - item, eq + 1, len - (eq + 1 - item),
		     err, errlen);
}

int thr_config_parse(struct thr_config *c, const char *list, char *err,
		     size_t errlen)
{
	struct thr_config tmp = *c;
	const char *p = list, *comma;

	for (;;) {
		comma = strchr(p, ',');
		if (parse_item(&tmp, p, comma ? (size_t)(comma - p) : strlen(p),
			       err, errlen))
			return -1;
		if (!comma)
			break;
		p = comma + 1;
	}
	*c = tmp;
	return 0;
}

/* ---- QEMU's consistency rules ------------------------------------------ */

/* A total limit with a read or write one of the same kind and field. */
static int check_conflicts(const struct thr_config *c, char *err, size_t errlen)
{
	static const unsigned int totals[] = {
		THR_BPS_TOTAL, THR_OPS_TOTAL,
		KEY_MAX + THR_BPS_TOTAL, KEY_MAX + THR_OPS_TOTAL,
	};
	unsigned int i, k;

	for (i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
		k = totals[i];
		if (thr_key_get(c, k) &&
		    (thr_key_get(c, k + 1) || thr_key_get(c, k + 2)))
			return fail(err, errlen, "%s cannot be used together with %s or %s",
				    key_names[k], key_names[k + 1], key_names[k + 2]);
	}
	return 0;
}

static int check_bucket(const struct thr_config *c, unsigned int i,
			char *err, size_t errlen)
{
	const struct thr_limit *l = &c->b[i];
	const char *avg = key_names[i], *max = key_names[KEY_MAX + i];
	const char *length = key_names[KEY_LENGTH + i];

	if (l->max_length > 1 && !l->max)
		return fail(err, errlen, "%s needs %s (a burst length without a burst rate)",
			    length, max);
	if (l->max && l->max_length > THR_VALUE_MAX / l->max)
		return fail(err, errlen, "%s times %s is above %llu",
			    max, length, THR_VALUE_MAX);
	if (l->max && !l->avg)
		return fail(err, errlen, "%s needs %s (a burst rate without an average rate)",
			    max, avg);
	if (l->max && l->max < l->avg)
		return fail(err, errlen, "%s (%llu) cannot be lower than %s (%llu)",
			    max, (unsigned long long)l->max, avg,
			    (unsigned long long)l->avg);
	return 0;
}

int thr_config_check(const struct thr_config *c, char *err, size_t errlen)
{
	unsigned int i;

	if (check_conflicts(c, err, errlen))
		return -1;
	if (c->size_iops && !c->b[THR_OPS_TOTAL].avg &&
	    !c->b[THR_OPS_READ].avg && !c->b[THR_OPS_WRITE].avg)
		return fail(err, errlen, "size_iops_sec needs total_iops_sec, read_iops_sec or write_iops_sec");
	for (i = 0; i < NKEYS; i++) {
		if (thr_key_get(c, i) > THR_VALUE_MAX)
			return fail(err, errlen, "%s is above %llu", key_names[i],
				    THR_VALUE_MAX);
	}
	for (i = 0; i < THR_NBUCKETS; i++) {
		if (check_bucket(c, i, err, errlen))
			return -1;
	}
	return 0;
}

bool thr_config_enabled(const struct thr_config *c)
{
	unsigned int i;

	for (i = 0; i < THR_NBUCKETS; i++) {
		if (c->b[i].avg)
			return true;
	}
	return false;
}

/* ---- the leaky buckets ---------------------------------------------------- */

/* Burst length in seconds; 0 means 1. */
static uint64_t burst_length(const struct thr_limit *l)
{
	return l->max_length ? l->max_length : 1;
}

static double drain(double level, double leak)
{
	return level > leak ? level - leak : 0;
}

/* Let every bucket leak for the time since the last call. */
static void leak(struct throttle *t, uint64_t now_ns)
{
	const struct thr_limit *l;
	double dt;
	int i;

	/* A clock read before the caller's lock may be a little behind. */
	if (now_ns <= t->last_ns)
		return;
	dt = (double)(now_ns - t->last_ns);
	t->last_ns = now_ns;
	for (i = 0; i < THR_NBUCKETS; i++) {
		l = &t->cfg.b[i];
		t->level[i] = drain(t->level[i], (double)l->avg * dt / NS_PER_SEC);
		if (burst_length(l) > 1)
			t->burst_level[i] = drain(t->burst_level[i],
						  (double)l->max * dt / NS_PER_SEC);
	}
}

/*
 * Nanoseconds (not rounded) until bucket i lets a request go: the main
 * bucket holds max * max_length (avg / 10 without a burst rate) and
 * empties at avg; with a burst longer than a second, the burst bucket
 * holds max / 10 and empties at max.
 */
static double bucket_wait(const struct throttle *t, unsigned int i)
{
	const struct thr_limit *l = &t->cfg.b[i];
	double size = (double)l->avg / 10, burst_size = 0;

	if (!l->avg)
		return 0;
	if (l->max) {
		size = (double)l->max * burst_length(l);
		burst_size = (double)l->max / 10;
	}
	if (t->level[i] > size)
		return (t->level[i] - size) * NS_PER_SEC / l->avg;
	if (burst_length(l) > 1 && t->burst_level[i] > burst_size)
		return (t->burst_level[i] - burst_size) * NS_PER_SEC / l->max;
	return 0;
}

/* w > 0 rounded up to whole nanoseconds (so at least 1), capped. */
static uint64_t round_up_ns(double w)
{
	uint64_t n;

	if (w >= (double)INT64_MAX)
		return INT64_MAX;
	n = (uint64_t)w;
	return (double)n < w ? n + 1 : n;
}

void throttle_init(struct throttle *t, const struct thr_config *c,
		   uint64_t now_ns)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *c;
	t->last_ns = now_ns;
}

uint64_t throttle_admit(struct throttle *t, bool is_write, uint64_t bytes,
			uint64_t now_ns)
{
	static const enum thr_bucket check[2][4] = {
		{ THR_BPS_TOTAL, THR_BPS_READ, THR_OPS_TOTAL, THR_OPS_READ },
		{ THR_BPS_TOTAL, THR_BPS_WRITE, THR_OPS_TOTAL, THR_OPS_WRITE },
	};
	const enum thr_bucket *b = check[is_write];
	double wait = 0, w, units = 1, add;
	int i;

	leak(t, now_ns);
	for (i = 0; i < 4; i++) {
		w = bucket_wait(t, b[i]);
		if (w > wait)
			wait = w;
	}
	if (wait > 0)
		return round_up_ns(wait);

	if (t->cfg.size_iops && bytes > t->cfg.size_iops)
		units = (double)bytes / t->cfg.size_iops;
	for (i = 0; i < 4; i++) {
		/* An unlimited bucket is never checked: leave it empty. */
		if (!t->cfg.b[b[i]].avg)
			continue;
		add = b[i] < THR_OPS_TOTAL ? (double)bytes : units;
		t->level[b[i]] += add;
		if (burst_length(&t->cfg.b[b[i]]) > 1)
			t->burst_level[b[i]] += add;
	}
	return 0;
}
