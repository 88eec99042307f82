/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz.h: what every fuzz harness (fuzz/fuzz-<name>.c) provides.  Each is
 * built twice: with clang and libFuzzer (`make fuzz`, fuzz/fuzz-<name>),
 * and with fuzz/replay.c as a plain program that `make check` runs over the
 * seed corpus in fuzz/corpus/<name>/ (fuzz/replay-<name>).  A harness
 * aborts when the code under test breaks one of its invariants.
 */
#ifndef VU_FUZZ_H
#define VU_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input; returns 0.  Must leave no fd, mapping or allocation behind. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken invariant and abort (a crash libFuzzer records). */
void fuzz_fail(const char *what) __attribute__((noreturn));

/* Little-endian field readers over the input, zero past its end. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->left) {
		v = *in->p++;
		in->left--;
	}
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return lo | (uint16_t)fuzz_u8(in) << 8;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | (uint32_t)fuzz_u16(in) << 16;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t lo = fuzz_u32(in);

	return lo | (uint64_t)fuzz_u32(in) << 32;
}

#endif
