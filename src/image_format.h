/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image_format.h: recognising other image formats (qcow2, VMDK, LUKS...)
 * in a backing store the daemons would otherwise serve as raw bytes, so
 * that a guest never writes over another format's header and tables.
 */
#ifndef VU_IMAGE_FORMAT_H
#define VU_IMAGE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* The trailer some formats keep in the last bytes of the image. */
#define IMAGE_FORMAT_TAIL_BYTES 512

/*
 * The name of the format whose header sits in head (the first head_len
 * bytes) or whose trailer is tail (the last IMAGE_FORMAT_TAIL_BYTES, or
 * NULL for a store shorter than that); NULL if none is recognised.
 */
const char *image_format_match(const uint8_t *head, size_t head_len,
			       const uint8_t *tail);

/*
 * Read the first and last bytes of fd (size bytes long; it may be open
 * with O_DIRECT, aligned to at most 4096) and refuse another format.
 * raw_opt says how the user asks for raw ("--format=raw").  Returns 0 for
 * raw, or -1 after one log line naming the format and the fix.
 */
int image_format_check(int fd, const char *path, uint64_t size,
		       const char *raw_opt);

/* A format=VALUE given by the user: 0 for "raw", else -1 after a log line. */
int image_format_parse(const char *opt, const char *val);

#endif
