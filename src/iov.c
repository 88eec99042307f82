// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iov.c: scatter-gather helpers.  Guest buffers arrive as iovec arrays whose
 * split is chosen by the guest, so headers are gathered and trailers found
 * with these instead of assuming any particular layout.
 */
#include <string.h>

#include "util.h"

/* Copy between an iovec (from skip bytes in) and a flat buffer. */
static size_t iov_copy(const struct iovec *iov, unsigned int cnt, size_t skip,
		       void *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < cnt && done < len; i++) {
		size_t seg = iov[i].iov_len;
		char *p = (char *)iov[i].iov_base + skip;
		size_t n;

		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		n = MIN(seg - skip, len - done);
		if (to_iov)
			memcpy(p, (char *)buf + done, n);
		else
			memcpy((char *)buf + done, p, n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t skip,
		  void *buf, size_t len)
{
	return iov_copy(iov, cnt, skip, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t skip,
		    const void *buf, size_t len)
{
	return iov_copy(iov, cnt, skip, (void *)buf, len, true);
}

/*
 * Drop bytes from the front of an iovec array by moving *iov forward and
 * shrinking the first remaining element.  Returns the bytes dropped.
 */
size_t iov_discard_front(struct iovec **iov, unsigned int *cnt,
			       size_t bytes)
{
	size_t done = 0;

	while (*cnt > 0 && done < bytes) {
		struct iovec *v = *iov;
		size_t n = MIN(v->iov_len, bytes - done);

		v->iov_base = (char *)v->iov_base + n;
		v->iov_len -= n;
		done += n;
		if (v->iov_len == 0) {
			(*iov)++;
			(*cnt)--;
		}
	}
	return done;
}

/* Drop bytes from the end of an iovec array.  Returns the bytes dropped. */
size_t iov_discard_back(struct iovec *iov, unsigned int *cnt,
			      size_t bytes)
{
	size_t done = 0;

	while (*cnt > 0 && done < bytes) {
		struct iovec *v = &iov[*cnt - 1];
		size_t n = MIN(v->iov_len, bytes - done);

		v->iov_len -= n;
		done += n;
		if (v->iov_len == 0)
			(*cnt)--;
	}
	return done;
}
