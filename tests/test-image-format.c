// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-image-format.c: neither daemon serves a file in another image
 * format as a raw disk.  For each format qemu-img can make (and bochs,
 * cloop and dmg, whose headers are written here from their specs), both
 * daemons refuse the file with exit status 1 and a line naming the format
 * and the fix, and both start on it when raw is said explicitly
 * (--format=raw, format=raw in a --lun); so too for a qcow2 image on a
 * block device (a loop device, as root); raw images of random data, of
 * zeros and a tiny one are not taken for another format.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tap.h"
#include "util.h"

#define IMG_MIN		65536u	/* room for daemon_serves() */
#define OUT_LEN		4096

struct fmt_case {
	const char *name;	/* as the refusal names it */
	const char *file;
	const char *fmt;	/* qemu-img's, or NULL: made by make() */
	const char *const *opts;
	void (*make)(const char *path);
};

static char out[OUT_LEN];

static void make_bochs(const char *path)
{
	static const char type[] = "Redolog", sub[] = "Growing";
	static const uint8_t version[4] = { 0, 0, 2, 0 };	/* le32 2.0 */

	image_create(path, 1 << 20);
	file_put(path, 0, "Bochs Virtual HD Image", 23);
	file_put(path, 32, type, sizeof(type));
	file_put(path, 48, sub, sizeof(sub));
	file_put(path, 64, version, sizeof(version));
}

static void make_cloop(const char *path)
{
	static const char script[] = "#!/bin/sh\n#V2.0 Format\n"
		"modprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";

	image_create(path, 1 << 20);
	file_put(path, 0, script, sizeof(script) - 1);
}

/*
 * Random data with the UDIF trailer ("koly") in the last 512 bytes, at a
 * size that puts it across a 4096-byte boundary.
 */
static void make_dmg(const char *path)
{
	uint64_t size = (1 << 20) + 4096 + 3700 + 512;

	image_create_random(path, size, 7);
	file_put(path, size - 512, "koly", 4);
}

static const char *const luks_opts[] = {
	"--object", "secret,id=s0,data=test-secret",
	"-o", "key-secret=s0,iter-time=100", NULL,
};
static const char *const flat_opts[] = { "-o", "subformat=monolithicFlat", NULL };
static const char *const fixed_opts[] = { "-o", "subformat=fixed", NULL };

static const struct fmt_case cases[] = {
	{ "qcow2", "a.qcow2", "qcow2", NULL, NULL },
	{ "qcow", "a.qcow", "qcow", NULL, NULL },
	{ "QED", "a.qed", "qed", NULL, NULL },
	{ "VMDK", "a.vmdk", "vmdk", NULL, NULL },
	{ "VMDK (descriptor)", "desc.vmdk", "vmdk", flat_opts, NULL },
	{ "VDI", "a.vdi", "vdi", NULL, NULL },
	{ "VHDX", "a.vhdx", "vhdx", NULL, NULL },
	{ "VPC (VHD)", "dynamic.vhd", "vpc", NULL, NULL },
	{ "VPC (VHD)", "fixed.vhd", "vpc", fixed_opts, NULL },
	{ "LUKS", "a.luks", "luks", luks_opts, NULL },
	{ "Parallels", "a.hdd", "parallels", NULL, NULL },
	{ "bochs", "a.bochs", NULL, NULL, make_bochs },
	{ "cloop", "a.cloop", NULL, NULL, make_cloop },
	{ "dmg", "a.dmg", NULL, NULL, make_dmg },
};

#define CASE_CHECKS 4

/* Does out hold the refusal for path, naming name and the fix? */
static bool refusal(const char *path, const char *name)
{
	char want[600];

	snprintf(want, sizeof(want), "%s: this is a %s image, not a raw disk",
		 path, name);
	return strstr(out, want) && strstr(out, "qemu-img convert -O raw");
}

static bool scsi_starts(const char *lun)
{
	const char *args[] = { lun, NULL };
	struct daemon d;
	bool good;

	good = daemon_start_bin(&d, scsi_daemon_binary(), args) == 0 &&
	       daemon_alive(&d);
	return daemon_stop(&d) == 0 && good;
}

static bool blk_serves(const char *blk_file, const char *format)
{
	const char *args[] = { blk_file, format, NULL };
	struct daemon d;
	bool good;

	good = daemon_start(&d, args) == 0 && daemon_serves(&d, 0);
	return daemon_stop(&d) == 0 && good;
}

static bool make_image(const struct fmt_case *c, const char *path)
{
	FILE *f;
	long size;

	if (c->make) {
		c->make(path);
		return true;
	}
	/*
	 * LUKS times its key derivation, which a busy machine can upset
	 * ("Unable to get accurate CPU usage"): try again.
	 */
	for (int tries = 0; qemu_img_create(path, c->fmt, "16M", c->opts, out,
					    sizeof(out)); tries++) {
		tap_diag("qemu-img create -f %s: %s", c->fmt, out);
		if (tries == 2)
			return false;
	}
	/* Grow a small one (its header stays where it is) for the I/O. */
	f = fopen(path, "rb");
	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	if (size < (long)IMG_MIN)
		file_put(path, IMG_MIN - 1, "", 1);
	return true;
}

static void check_format(const struct fmt_case *c, bool have_qemu_img)
{
	char path[400], blk_file[420], lun[440];
	const char *blk_args[] = { blk_file, NULL };
	const char *scsi_args[] = { lun, NULL };
	int st;

	if (!c->make && !have_qemu_img) {
		for (int i = 0; i < CASE_CHECKS; i++)
			tap_skip("no qemu-img (tests/install-deps.sh installs qemu-utils)");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", harness_dir(), c->file);
	snprintf(blk_file, sizeof(blk_file), "--blk-file=%s", path);
	if (!make_image(c, path)) {
		for (int i = 0; i < CASE_CHECKS; i++)
			ok(false, "%s: qemu-img makes the image", c->file);
		return;
	}
	st = run_daemon_refused(blk_daemon_binary(), blk_args, out, sizeof(out));
	ok(st == 1 && refusal(path, c->name),
	   "blk refuses %s as a %s image (exit %d)", c->file, c->name, st);
	if (st != 1 || !refusal(path, c->name))
		tap_diag("%s", out);
	snprintf(lun, sizeof(lun), "--lun=0,file=%s", path);
	st = run_daemon_refused(scsi_daemon_binary(), scsi_args, out, sizeof(out));
	ok(st == 1 && refusal(path, c->name),
	   "scsi refuses %s as a %s image (exit %d)", c->file, c->name, st);
	snprintf(lun, sizeof(lun), "--lun=0,file=%s,format=raw", path);
	ok(scsi_starts(lun), "scsi serves %s with format=raw", c->file);
	ok(blk_serves(blk_file, "--format=raw"), "blk serves %s with --format=raw",
	   c->file);
}

/* A block device is checked as a file is: a qcow2 image on a loop device. */
static void check_blkdev(bool have_qemu_img)
{
	static const struct fmt_case loop_case = {
		"qcow2", "loop.qcow2", "qcow2", NULL, NULL,
	};
	char path[400], dev[64], blk_file[100], lun[120];
	const char *blk_args[] = { blk_file, NULL };
	int st;

	snprintf(path, sizeof(path), "%s/%s", harness_dir(), loop_case.file);
	if (!have_qemu_img || !make_image(&loop_case, path) ||
	    loop_attach(path, dev, sizeof(dev)) < 0) {
		for (int i = 0; i < 2; i++)
			tap_skip("no loop device (needs root) or no qemu-img");
		return;
	}
	snprintf(blk_file, sizeof(blk_file), "--blk-file=%s", dev);
	snprintf(lun, sizeof(lun), "--lun=0,file=%s,format=raw", dev);
	st = run_daemon_refused(blk_daemon_binary(), blk_args, out, sizeof(out));
	ok(st == 1 && refusal(dev, "qcow2"),
	   "blk refuses a qcow2 image on a block device (exit %d)", st);
	ok(scsi_starts(lun) && blk_serves(blk_file, "--format=raw"),
	   "both serve it with raw said explicitly");
	loop_detach(dev);
}

/* A raw image is served by both daemons without saying raw. */
static void check_raw(const char *file, bool random)
{
	char path[400], blk_file[420], lun[440];

	snprintf(path, sizeof(path), "%s/%s", harness_dir(), file);
	snprintf(blk_file, sizeof(blk_file), "--blk-file=%s", path);
	snprintf(lun, sizeof(lun), "--lun=0,file=%s", path);
	if (random)
		image_create_random(path, 4 << 20, 1);
	else
		image_create(path, 4 << 20);
	ok(blk_serves(blk_file, NULL), "blk serves the raw %s", file);
	ok(scsi_starts(lun), "scsi serves the raw %s", file);
}

/* A file shorter than a block is refused for its size, not as a format. */
static void check_tiny(void)
{
	char path[400], blk_file[420], lun[440];
	const char *blk_args[] = { blk_file, NULL };
	const char *scsi_args[] = { lun, NULL };
	int st;

	snprintf(path, sizeof(path), "%s/tiny.img", harness_dir());
	snprintf(blk_file, sizeof(blk_file), "--blk-file=%s", path);
	snprintf(lun, sizeof(lun), "--lun=0,file=%s", path);
	image_create_random(path, 300, 3);
	st = run_daemon_refused(blk_daemon_binary(), blk_args, out, sizeof(out));
	ok(st == 1 && strstr(out, "smaller than one") && !strstr(out, "not a raw disk"),
	   "blk: a 300-byte file is too small, not another format");
	st = run_daemon_refused(scsi_daemon_binary(), scsi_args, out, sizeof(out));
	ok(st == 1 && strstr(out, "smaller than one") && !strstr(out, "not a raw disk"),
	   "scsi: a 300-byte file is too small, not another format");
}

/* Any format but raw is refused on the command line. */
static void check_bad_values(void)
{
	char path[400], blk_file[420], lun[440];
	const char *blk_args[] = { blk_file, "--format=qcow2", NULL };
	const char *scsi_args[] = { lun, NULL };
	int st;

	snprintf(path, sizeof(path), "%s/zero.img", harness_dir());
	snprintf(blk_file, sizeof(blk_file), "--blk-file=%s", path);
	snprintf(lun, sizeof(lun), "--lun=0,file=%s,format=vmdk", path);
	st = run_daemon_refused(blk_daemon_binary(), blk_args, out, sizeof(out));
	ok(st == 1 && strstr(out, "--format=qcow2: only raw"),
	   "blk: --format=qcow2 is refused");
	st = run_daemon_refused(scsi_daemon_binary(), scsi_args, out, sizeof(out));
	ok(st == 1 && strstr(out, "format=vmdk: only raw"),
	   "scsi: format=vmdk in --lun is refused");
}

int main(void)
{
	bool have_qemu_img = have_program("qemu-img");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_format(&cases[i], have_qemu_img);
	check_blkdev(have_qemu_img);
	check_raw("random.img", true);
	check_raw("zero.img", false);
	check_tiny();
	check_bad_values();
	harness_cleanup();
	return tap_done();
}
