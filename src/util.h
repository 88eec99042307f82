/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util.h: small helpers shared by every part of vhost-uring: memory barriers
 * for rings shared with a guest, single-fetch accessors, overflow-checked
 * arithmetic and a few classic macros.
 */
#ifndef VU_UTIL_H
#define VU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)		((a) < (b) ? (a) : (b))
#define MAX(a, b)		((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)		(((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((__typeof__(x))(a) - 1))
#define IS_POW2(x)		((x) != 0 && ((x) & ((x) - 1)) == 0)

#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * Guest memory can change under us at any time.  Every value we act on is
 * fetched exactly once through these, so the compiler cannot re-read it.
 */
#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

/* Barriers between us and a guest driver running on another CPU. */
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)

/* a + b without wrapping; false when it would overflow. */
static inline bool add_ok_u64(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

/* [start, start + len) lies within [0, limit). */
static inline bool range_within(uint64_t start, uint64_t len, uint64_t limit)
{
	return start <= limit && len <= limit - start;
}

static inline size_t iov_length(const struct iovec *iov, unsigned int cnt)
{
	size_t len = 0;

	for (unsigned int i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	return len;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t skip,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t skip,
		    const void *buf, size_t len);
size_t iov_discard_front(struct iovec **iov, unsigned int *cnt,
			       size_t bytes);
size_t iov_discard_back(struct iovec *iov, unsigned int *cnt,
			      size_t bytes);

#endif
