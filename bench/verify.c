// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * verify.c: owns the --verify block format.  A block starts with a 32-byte
 * header {magic, block number, generation, crc32c of the rest}; the rest is a
 * stream of 64-bit words derived from (block, generation), so that two
 * versions of one block never look alike.
 */
#include <string.h>

#include "verify.h"

#define VERIFY_MAGIC	0x7668752d76657266ull	/* "vhu-verf" */

struct vhdr {
	uint64_t magic;
	uint64_t blk;
	uint32_t gen;
	uint32_t crc;
	uint64_t pad;
};

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc_table[1])
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

void verify_fill(void *buf, size_t len, uint64_t blk, uint32_t gen)
{
	struct vhdr h = { VERIFY_MAGIC, blk, gen, 0, 0 };
	uint64_t *w = (uint64_t *)((char *)buf + sizeof(h));
	uint64_t seed = mix(blk * 0x9e3779b97f4a7c15ull ^ gen);

	for (size_t i = 0; i < (len - sizeof(h)) / 8; i++)
		w[i] = mix(seed + i);
	h.crc = crc32c(0, w, len - sizeof(h));
	memcpy(buf, &h, sizeof(h));
}

enum verify_result verify_check(const void *buf, size_t len, uint64_t blk,
				uint32_t gen)
{
	struct vhdr h;

	memcpy(&h, buf, sizeof(h));
	if (h.magic != VERIFY_MAGIC)
		return VERIFY_BAD_MAGIC;
	if (h.blk != blk)
		return VERIFY_BAD_BLOCK;
	if (h.gen != gen)
		return VERIFY_BAD_GEN;
	if (h.crc != crc32c(0, (const char *)buf + sizeof(h), len - sizeof(h)))
		return VERIFY_BAD_CRC;
	return VERIFY_OK;
}

const char *verify_result_name(enum verify_result r)
{
	switch (r) {
	case VERIFY_OK:
		return "ok";
	case VERIFY_BAD_MAGIC:
		return "not a block written by this run";
	case VERIFY_BAD_BLOCK:
		return "block from another offset";
	case VERIFY_BAD_GEN:
		return "stale or unexpected version";
	default:
		return "checksum mismatch";
	}
}
