/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_rpc.h: the control socket's protocol, JSON-RPC 2.0 with one request
 * per line: a line becomes a JSON document (json.h), is checked as a
 * request, goes to its method, and becomes one response line (none for a
 * notification, a request without "id").  Knows no socket and no device:
 * the methods come in a table, with a context of the caller's.
 */
#ifndef VU_CTL_RPC_H
#define VU_CTL_RPC_H

#include <stddef.h>

#include "json.h"
#include "sbuf.h"

/* JSON-RPC 2.0's error codes. */
#define RPC_PARSE_ERROR		-32700
#define RPC_INVALID_REQUEST	-32600
#define RPC_METHOD_NOT_FOUND	-32601
#define RPC_INVALID_PARAMS	-32602
#define RPC_INTERNAL_ERROR	-32603

/* The longest request line, without its LF. */
#define CTL_LINE_MAX		65536

/* One call of a method. */
struct ctl_call {
	void *ctx;			/* the table's context */
	const char *method;
	const struct json_node *params;	/* an object; NULL when none given */
	struct sbuf *out;		/* the result's JSON goes here */
	char err[256];			/* the error message */
};

/* A method: 0 with the result in c->out, or an error code with c->err. */
struct ctl_method {
	const char *name;
	int (*fn)(struct ctl_call *c);
};

/*
 * Handle one request line (len bytes, without its LF; changed in place)
 * with methods (ended by a NULL name) on ctx, using doc for the parse.
 * Appends the response line, LF included, to out, or nothing for a
 * notification.
 */
void ctl_rpc_line(const struct ctl_method *methods, void *ctx,
		  struct json_doc *doc, char *line, size_t len,
		  struct sbuf *out);
/* An error response line with id null (a line that is too long, say). */
void ctl_rpc_error_line(struct sbuf *out, int code, const char *msg);

/*
 * For methods: -32602 with a message naming the first member of params
 * that is not in keys (NULL-ended), else 0.
 */
int ctl_params_known(struct ctl_call *c, const char *const *keys);
/* Set c->err from a format; returns code. */
int ctl_fail(struct ctl_call *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A member of params that must be a string: 0 (absent: *s unchanged) or -32602. */
int ctl_param_str(struct ctl_call *c, const char *key, const char **s);
/* A member of params that must be an integer in [0, max]: 0 (absent: *v unchanged), -32602. */
int ctl_param_uint(struct ctl_call *c, const char *key, uint64_t max,
		   uint64_t *v, bool *given);

#endif
