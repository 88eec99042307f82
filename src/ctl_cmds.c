// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_cmds.c: the control socket's methods (ctl_methods[]), on the device
 * being served: stats (disk_io.h's counters as JSON or Prometheus text),
 * iotune (a disk's QoS limits, read and changed all at once), rescan (as
 * SIGHUP) and info.  They run on the control thread with the I/O threads
 * running: counters and limits are disk_io.c's to read and change safely.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "disk_io.h"
#include "throttle.h"
#include "vhost_user.h"

/* SCSI LUNs 0-255; a virtio-blk device has one disk. */
#define CTL_MAX_DISKS	256

/* The device's disks and their LUNs (-1: a device of one disk). */
struct disks {
	struct disk *d[CTL_MAX_DISKS];
	int lun[CTL_MAX_DISKS];
	unsigned int n;
	bool luns;		/* the disks are LUNs */
};

static struct vu_dev *dev_of(const struct ctl_call *c)
{
	return ((const struct ctl_target *)c->ctx)->dev;
}

/* "blk", "scsi": the device's name without "virtio-". */
static const char *device_name(const struct vu_dev *dev)
{
	const char *n = dev->ops->name;

	return strncmp(n, "virtio-", 7) ? n : n + 7;
}

static int get_disks(struct ctl_call *c, struct disks *ds)
{
	const struct vu_dev *dev = dev_of(c);

	ds->n = 0;
	while (dev->ops->disk && ds->n < CTL_MAX_DISKS) {
		ds->d[ds->n] = dev->ops->disk(dev->ctx, ds->n, &ds->lun[ds->n]);
		if (!ds->d[ds->n])
			break;
		ds->n++;
	}
	if (!ds->n)
		return ctl_fail(c, RPC_INTERNAL_ERROR, "%s: the device has no disks to report",
				c->method);
	ds->luns = ds->lun[0] >= 0;
	return 0;
}

/* The disk of LUN lun, or NULL. */
static struct disk *lun_disk(const struct disks *ds, uint64_t lun)
{
	for (unsigned int i = 0; i < ds->n; i++) {
		if (ds->lun[i] >= 0 && (uint64_t)ds->lun[i] == lun)
			return ds->d[i];
	}
	return NULL;
}

/* ---- stats -------------------------------------------------------------- */

static int stats_prometheus(struct ctl_call *c, const struct disks *ds)
{
	struct sbuf text;
	int ret = 0;

	sbuf_init(&text);
	disk_stats_prom(ds->d, ds->lun, ds->n, device_name(dev_of(c)), &text);
	if (text.oom)
		ret = ctl_fail(c, RPC_INTERNAL_ERROR, "stats: out of memory");
	sbuf_puts(c->out, "{\"format\":\"prometheus\",\"text\":");
	sbuf_json_str(c->out, text.p ? text.p : "");
	sbuf_puts(c->out, "}");
	sbuf_free(&text);
	return ret;
}

static void stats_json(struct ctl_call *c, const struct disks *ds)
{
	struct sbuf *o = c->out;

	sbuf_puts(o, "{\"device\":");
	sbuf_json_str(o, device_name(dev_of(c)));
	if (!ds->luns) {
		sbuf_puts(o, ",");
		disk_stats_json(ds->d[0], o);
		sbuf_puts(o, "}");
		return;
	}
	sbuf_puts(o, ",\"luns\":[");
	for (unsigned int i = 0; i < ds->n; i++) {
		sbuf_printf(o, "%s{\"lun\":%d,", i ? "," : "", ds->lun[i]);
		disk_stats_json(ds->d[i], o);
		sbuf_puts(o, "}");
	}
	sbuf_puts(o, "]}");
}

static int m_stats(struct ctl_call *c)
{
	static const char *const keys[] = { "format", NULL };
	const char *format = "json";
	struct disks ds;
	char buf[48];
	int ret;

	if ((ret = ctl_params_known(c, keys)) ||
	    (ret = ctl_param_str(c, "format", &format)))
		return ret;
	if (strcmp(format, "json") && strcmp(format, "prometheus"))
		return ctl_fail(c, RPC_INVALID_PARAMS, "stats: \"format\" must be \"json\" or \"prometheus\", not \"%s\"",
				json_excerpt(buf, sizeof(buf), format));
	if ((ret = get_disks(c, &ds)))
		return ret;
	if (!strcmp(format, "prometheus"))
		return stats_prometheus(c, &ds);
	stats_json(c, &ds);
	return 0;
}

/* ---- iotune ------------------------------------------------------------- */

/* The text of one value of "set": an integer, or a string of digits. */
static int set_value(struct ctl_call *c, const struct json_node *v, char *buf,
		     size_t len)
{
	char ex[48];

	if (v->type == JSON_STRING) {
		if (!v->len || strspn(v->s, "0123456789") != v->len)
			return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: %s: expected a decimal integer, got \"%s\"",
					v->key, json_excerpt(ex, sizeof(ex), v->s));
		if (v->len >= len)
			return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: %s: %s is too big (at most %llu)",
					v->key, json_excerpt(ex, sizeof(ex), v->s),
					THR_VALUE_MAX);
		memcpy(buf, v->s, v->len + 1);
		return 0;
	}
	if (v->type != JSON_NUMBER)
		return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: %s: expected an integer or a string of digits, not %s",
				v->key, json_type_name(v->type));
	snprintf(buf, len, "%.*s", (int)v->len, v->s);
	if (strpbrk(buf, ".eE"))
		return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: %s: expected a whole number, got %.40s%s",
				v->key, buf, v->len > 40 ? "..." : "");
	if (v->len >= len)
		return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: %s: %.40s... is out of range (0 to %llu)",
				v->key, buf, THR_VALUE_MAX);
	return 0;
}

/* Apply every key of set to the disk's limits, or none of them. */
static int iotune_set(struct ctl_call *c, struct disk *d,
		      const struct json_node *set)
{
	struct thr_config cfg;
	char value[32], err[200], ex[48];

	disk_limits_get(d, &cfg);
	for (const struct json_node *m = set->child; m; m = m->next) {
		int ret = set_value(c, m, value, sizeof(value));

		if (ret)
			return ret;
		if (thr_config_set(&cfg, json_excerpt(ex, sizeof(ex), m->key),
				   value, err, sizeof(err)) < 0)
			return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: %s", err);
	}
	if (thr_config_check(&cfg, err, sizeof(err)) < 0)
		return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: %s", err);
	disk_limits_set(d, &cfg);
	vu_dev_limits_changed(dev_of(c));
	return 0;
}

static void limits_of(struct sbuf *o, struct disk *d, int lun)
{
	if (lun >= 0)
		sbuf_printf(o, "{\"lun\":%d,\"limits\":", lun);
	else
		sbuf_puts(o, "{\"limits\":");
	disk_limits_json(d, o);
	sbuf_puts(o, "}");
}

static int m_iotune(struct ctl_call *c)
{
	static const char *const keys[] = { "lun", "set", NULL };
	const struct json_node *set = json_get(c->params, "set");
	struct disk *d = NULL;
	struct disks ds;
	uint64_t lun = 0;
	bool has_lun;
	int ret;

	if ((ret = ctl_params_known(c, keys)) ||
	    (ret = ctl_param_uint(c, "lun", 255, &lun, &has_lun)) ||
	    (ret = get_disks(c, &ds)))
		return ret;
	if (set && set->type != JSON_OBJECT)
		return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: \"set\" must be an object of KEY: VALUE, not %s",
				json_type_name(set->type));
	if (!ds.luns && has_lun)
		return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: this device has no LUNs: leave \"lun\" out");
	if (ds.luns && set && !has_lun)
		return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: \"set\" needs \"lun\" on a device with LUNs");
	d = !ds.luns ? ds.d[0] : has_lun ? lun_disk(&ds, lun) : NULL;
	if (!d && has_lun)
		return ctl_fail(c, RPC_INVALID_PARAMS, "iotune: there is no LUN %" PRIu64, lun);
	if (set && (ret = iotune_set(c, d, set)))
		return ret;
	if (d) {
		limits_of(c->out, d, has_lun ? (int)lun : -1);
		return 0;
	}
	sbuf_puts(c->out, "{\"luns\":[");
	for (unsigned int i = 0; i < ds.n; i++) {
		if (i)
			sbuf_puts(c->out, ",");
		limits_of(c->out, ds.d[i], ds.lun[i]);
	}
	sbuf_puts(c->out, "]}");
	return 0;
}

/* ---- rescan, info ------------------------------------------------------- */

static int m_rescan(struct ctl_call *c)
{
	static const char *const keys[] = { NULL };
	int ret = ctl_params_known(c, keys);

	if (ret)
		return ret;
	sbuf_printf(c->out, "{\"rescanned\":%s}",
		    vu_dev_rescan(dev_of(c)) ? "true" : "false");
	return 0;
}

static unsigned int running_queues(const struct vu_dev *dev)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < dev->max_queues; i++)
		n += dev->vqs[i].active && !dev->vqs[i].broken;
	return n;
}

static void info_disks(struct sbuf *o, const struct disks *ds)
{
	sbuf_puts(o, ",\"disks\":[");
	for (unsigned int i = 0; i < ds->n; i++) {
		const struct disk *d = ds->d[i];

		sbuf_puts(o, i ? ",{" : "{");
		if (ds->luns)
			sbuf_printf(o, "\"lun\":%d,", ds->lun[i]);
		sbuf_puts(o, "\"path\":");
		sbuf_json_str(o, d->path);
		sbuf_printf(o, ",\"cache\":\"%s\",\"read_only\":%s,\"in_memory\":%s,\"size_bytes\":%" PRIu64 "}",
			    cache_mode_name(d->cache),
			    d->bk->read_only ? "true" : "false",
			    d->copy_in_thread ? "true" : "false", d->bk->size);
	}
	sbuf_puts(o, "]");
}

static int m_info(struct ctl_call *c)
{
	static const char *const keys[] = { NULL };
	const struct ctl_target *t = c->ctx;
	const struct vu_dev *dev = t->dev;
	const struct iothread *th = dev->threads.n ? &dev->threads.th[0] : NULL;
	struct sbuf *o = c->out;
	struct disks ds;
	int ret;

	if ((ret = ctl_params_known(c, keys)) || (ret = get_disks(c, &ds)))
		return ret;
	sbuf_puts(o, "{\"device\":");
	sbuf_json_str(o, device_name(dev));
	sbuf_printf(o, ",\"version\":\"%s\",\"uptime_s\":%" PRIu64
		    ",\"engine\":\"%s\",\"threads\":%u,\"poll_us\":%" PRIu64
		    ",\"front_end\":%s,\"features\":\"0x%" PRIx64
		    "\",\"protocol_features\":\"0x%" PRIx64
		    "\",\"queues\":{\"max\":%u,\"running\":%u}",
		    PACKAGE_VERSION, (uint64_t)((ctl_now_ns() - t->start_ns) / 1000000000u),
		    th ? io_engine_kind_name(th->kind) : "none", dev->threads.n,
		    (uint64_t)(th ? th->poll.max_ns / 1000 : 0), dev->sock >= 0 ? "true" : "false",
		    dev->features, dev->protocol_features, dev->max_queues,
		    running_queues(dev));
	info_disks(o, &ds);
	sbuf_puts(o, "}");
	return 0;
}

const struct ctl_method ctl_methods[] = {
	{ "stats", m_stats },
	{ "iotune", m_iotune },
	{ "rescan", m_rescan },
	{ "info", m_info },
	{ NULL, NULL },
};
