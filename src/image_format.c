// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * image_format.c: owns recognising the headers and trailers of the image
 * formats QEMU knows (qcow2, qcow, QED, VMDK, VDI, VHDX, VPC, LUKS,
 * Parallels, bochs, cloop, dmg) at open time, and the one-line refusal
 * that names the format and the fix.  The magic numbers and where they
 * sit come from the formats' specifications and QEMU's probes.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_format.h"
#include "log.h"
#include "util.h"

#define HEAD_BYTES	4096u	/* read at offset 0 */
#define IO_ALIGN	4096u	/* enough for any direct I/O we accept */

/* A magic string at a fixed offset of the first bytes. */
struct magic {
	const char *name;
	uint32_t off;
	uint32_t len;
	const char *bytes;
};

#define MAGIC(n, o, s) { n, o, sizeof(s) - 1, s }

static const struct magic head_magics[] = {
	MAGIC("QED", 0, "QED\0"),
	MAGIC("VMDK", 0, "KDMV"),		/* VMDK4, sparse */
	MAGIC("VMDK", 0, "COWD"),		/* VMDK3 */
	MAGIC("VDI", 64, "\x7f\x10\xda\xbe"),	/* le32 0xbeda107f */
	MAGIC("VHDX", 0, "vhdxfile"),
	MAGIC("VPC (VHD)", 0, "conectix"),	/* dynamic: footer copy */
	MAGIC("bochs", 0, "Bochs Virtual HD Image\0"),
	MAGIC("cloop", 0, "#!/bin/sh\n#V2.0 Format\n"
		"modprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n"),
};

static const struct magic tail_magics[] = {
	MAGIC("VPC (VHD)", 0, "conectix"),	/* the footer of a fixed VHD */
	MAGIC("dmg", 0, "koly"),		/* the UDIF trailer */
};

static bool has_magic(const uint8_t *buf, size_t len, const struct magic *m)
{
	return m->off + m->len <= len && !memcmp(buf + m->off, m->bytes, m->len);
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

/* qcow and qcow2 share their magic; the version tells them apart. */
static const char *match_qcow(const uint8_t *h, size_t len)
{
	if (len < 8 || memcmp(h, "QFI\xfb", 4))
		return NULL;
	return be32_at(h + 4) == 1 ? "qcow" : "qcow2";
}

static const char *match_luks(const uint8_t *h, size_t len)
{
	if (len < 8 || memcmp(h, "LUKS\xba\xbe", 6))
		return NULL;
	return h[6] == 0 && h[7] == 2 ? "LUKS2" : "LUKS";
}

static const char *match_parallels(const uint8_t *h, size_t len)
{
	if (len < 20 || le32_at(h + 16) != 2)
		return NULL;
	if (memcmp(h, "WithoutFreeSpace", 16) &&
	    memcmp(h, "WithouFreSpacExt", 16))
		return NULL;
	return "Parallels";
}

/*
 * A VMDK descriptor is text: comment lines and blanks, then a line
 * "version=1", 2 or 3 (ending in \n or \r\n).
 */
static const char *match_vmdk_text(const uint8_t *h, size_t len)
{
	const char *p = (const char *)h, *end = p + MIN(len, (size_t)512);

	while (p < end) {
		if (*p == '#') {
			p = memchr(p, '\n', end - p);
			if (!p)
				return NULL;
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			p++;
		} else {
			break;
		}
	}
	if (end - p < 10 || strncmp(p, "version=", 8) ||
	    p[8] < '1' || p[8] > '3')
		return NULL;
	return p[9] == '\n' || (p[9] == '\r' && end - p > 10 && p[10] == '\n') ?
	       "VMDK (descriptor)" : NULL;
}

const char *image_format_match(const uint8_t *head, size_t head_len,
			       const uint8_t *tail)
{
	const char *name;

	for (size_t i = 0; i < ARRAY_SIZE(head_magics); i++)
		if (has_magic(head, head_len, &head_magics[i]))
			return head_magics[i].name;
	if ((name = match_qcow(head, head_len)) ||
	    (name = match_luks(head, head_len)) ||
	    (name = match_parallels(head, head_len)) ||
	    (name = match_vmdk_text(head, head_len)))
		return name;
	for (size_t i = 0; tail && i < ARRAY_SIZE(tail_magics); i++)
		if (has_magic(tail, IMAGE_FORMAT_TAIL_BYTES, &tail_magics[i]))
			return tail_magics[i].name;
	return NULL;
}

/* path with its extension (or none) replaced by ".raw", for the hint. */
static void raw_name(char *out, size_t n, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash + 1 : path, '.');
	int stem = dot && dot != (slash ? slash + 1 : path) ?
		   (int)(dot - path) : (int)strlen(path);

	snprintf(out, n, "%.*s.raw", stem, path);
}

/*
 * Read the first bytes and the last IMAGE_FORMAT_TAIL_BYTES of fd into
 * buf (3 * HEAD_BYTES, aligned): *head_len bytes at buf, the tail (or
 * NULL) in the two aligned blocks after them, which it may straddle.
 * Returns 0 or -errno.
 */
static int read_ends(int fd, uint64_t size, uint8_t *buf, size_t *head_len,
		     const uint8_t **tail)
{
	ssize_t n = pread(fd, buf, HEAD_BYTES, 0);
	uint64_t t, at;

	if (n < 0)
		return -errno;
	*head_len = n;
	*tail = NULL;
	if (size < IMAGE_FORMAT_TAIL_BYTES)
		return 0;
	t = size - IMAGE_FORMAT_TAIL_BYTES;
	at = ALIGN_DOWN(t, (uint64_t)IO_ALIGN);
	n = pread(fd, buf + HEAD_BYTES, 2 * HEAD_BYTES, at);
	if (n < 0)
		return -errno;
	if ((uint64_t)n >= t - at + IMAGE_FORMAT_TAIL_BYTES)
		*tail = buf + HEAD_BYTES + (t - at);
	return 0;
}

int image_format_check(int fd, const char *path, uint64_t size,
		       const char *raw_opt)
{
	const uint8_t *tail;
	const char *name;
	char raw[512];
	size_t head_len = 0;
	uint8_t *buf;
	int ret;

	if (posix_memalign((void **)&buf, IO_ALIGN, 3 * HEAD_BYTES)) {
		log_err("out of memory");
		return -1;
	}
	ret = read_ends(fd, size, buf, &head_len, &tail);
	if (ret < 0) {
		log_err("cannot read %s to check its format: %s", path,
			strerror(-ret));
		goto out;
	}
	name = image_format_match(buf, head_len, tail);
	if (name) {
		raw_name(raw, sizeof(raw), path);
		log_err("%s: this is a %s image, not a raw disk; convert it with \"qemu-img convert -O raw %s %s\", or pass %s to serve its bytes as they are",
			path, name, path, raw, raw_opt);
		ret = -1;
	}
out:
	free(buf);
	return ret < 0 ? -1 : 0;
}

int image_format_parse(const char *opt, const char *val)
{
	if (!strcmp(val, "raw"))
		return 0;
	log_err("%s=%s: only raw images are served; convert it with \"qemu-img convert -O raw\" first",
		opt, val);
	return -1;
}
