// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * engine.c: chooses an I/O engine.  With --aio=auto the io_uring engine is
 * tried first; if the kernel or a seccomp policy refuses io_uring_setup, the
 * libaio engine is used and one log line says why.  Also the one way both
 * engines copy an in_thread operation.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#include "engine.h"
#include "log.h"

const char *io_engine_kind_name(enum io_engine_kind kind)
{
	switch (kind) {
	case IO_ENGINE_URING:
		return "io_uring";
	case IO_ENGINE_AIO:
		return "libaio";
	default:
		return "auto";
	}
}

int io_engine_parse(const char *s, enum io_engine_kind *kind)
{
	if (!strcmp(s, "auto"))
		*kind = IO_ENGINE_AUTO;
	else if (!strcmp(s, "io_uring"))
		*kind = IO_ENGINE_URING;
	else if (!strcmp(s, "libaio") || !strcmp(s, "native"))
		*kind = IO_ENGINE_AIO;
	else
		return -EINVAL;
	return 0;
}

int io_engine_select(enum io_engine_kind want, enum io_engine_kind *got)
{
	int ret = -ENOSYS;

	switch (want) {
	case IO_ENGINE_URING:
#ifdef HAVE_LIBURING
		ret = uring_engine_probe();
		if (ret < 0)
			log_err("io_uring is not usable: io_uring_setup failed: %s",
				strerror(-ret));
#else
		log_err("this build has no io_uring engine");
#endif
		break;
	case IO_ENGINE_AIO:
#ifdef HAVE_LIBAIO
		ret = 0;
#else
		log_err("this build has no libaio engine");
#endif
		break;
	case IO_ENGINE_AUTO:
#ifdef HAVE_LIBURING
		ret = uring_engine_probe();
		if (ret == 0) {
			want = IO_ENGINE_URING;
			break;
		}
#ifdef HAVE_LIBAIO
		log_warn("io_uring_setup failed (%s); falling back to libaio",
			 strerror(-ret));
		want = IO_ENGINE_AIO;
		ret = 0;
#else
		log_err("io_uring_setup failed (%s) and this build has no libaio engine",
			strerror(-ret));
#endif
#else
		want = IO_ENGINE_AIO;
		ret = 0;
#endif
		break;
	}
	if (ret == 0)
		*got = want;
	return ret;
}

int io_engine_create(enum io_engine_kind kind, const struct io_engine_opts *o,
		     struct io_engine **out)
{
	switch (kind) {
#ifdef HAVE_LIBURING
	case IO_ENGINE_URING:
		return uring_engine_create(o, out);
#endif
#ifdef HAVE_LIBAIO
	case IO_ENGINE_AIO:
		return aio_engine_create(o, out);
#endif
	default:
		return -ENOSYS;
	}
}

int io_op_rw_in_thread(const struct io_op *op)
{
	ssize_t n;

	do {
		if (op->opcode == IO_OP_READV)
			n = preadv2(op->fd, op->iov, (int)op->iovcnt,
				    (off_t)op->off, op->rw_flags);
		else
			n = pwritev2(op->fd, op->iov, (int)op->iovcnt,
				     (off_t)op->off, op->rw_flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n > INT_MAX ? INT_MAX : (int)n;
}

int io_done_dispatch(struct io_op_list *l)
{
	struct io_op *list = io_op_list_take(l);
	int n = 0;

	while (list) {
		struct io_op *op = list;

		list = op->next;
		n++;
		op->done(op, op->res);
	}
	return n;
}
