/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify.h: self-checking block contents for vhost-uring-bench --verify.
 * Every block written carries its block number, a generation number and a
 * CRC32C of its payload, so a read can tell a torn, misplaced, stale or
 * corrupted block from the right one.
 */
#ifndef VU_VERIFY_H
#define VU_VERIFY_H

#include <stddef.h>
#include <stdint.h>

enum verify_result {
	VERIFY_OK,
	VERIFY_BAD_MAGIC,	/* not one of our blocks (never written?) */
	VERIFY_BAD_BLOCK,	/* a block from another place */
	VERIFY_BAD_GEN,		/* an older (or newer) version */
	VERIFY_BAD_CRC,		/* payload corrupted */
};

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* Fill len bytes (a multiple of 64) for block number blk, generation gen. */
void verify_fill(void *buf, size_t len, uint64_t blk, uint32_t gen);
/* Check a block read back; gen is the generation last written there. */
enum verify_result verify_check(const void *buf, size_t len, uint64_t blk,
				uint32_t gen);
const char *verify_result_name(enum verify_result r);

#endif
