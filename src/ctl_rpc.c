// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_rpc.c: JSON-RPC 2.0 framing for the control socket (ctl_rpc.h): the
 * checks that make a JSON text a request, the dispatch to a method, the
 * response line, and the helpers methods check their params with.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl_rpc.h"

static const char *const request_keys[] = {
	"jsonrpc", "id", "method", "params", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++) {
		if (!strcmp(*list, s))
			return true;
	}
	return false;
}

/* {"jsonrpc":"2.0","id":ID, with ID null when there is none. */
static void response_head(struct sbuf *out, const struct json_node *id)
{
	sbuf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	if (!id)
		sbuf_puts(out, "null");
	else if (id->type == JSON_STRING)
		sbuf_json_str(out, id->s);
	else
		sbuf_add(out, id->s, id->len);	/* a number, as sent */
}

static void error_line(struct sbuf *out, const struct json_node *id, int code,
		       const char *msg)
{
	response_head(out, id);
	sbuf_printf(out, ",\"error\":{\"code\":%d,\"message\":", code);
	sbuf_json_str(out, msg);
	sbuf_puts(out, "}}\n");
}

void ctl_rpc_error_line(struct sbuf *out, int code, const char *msg)
{
	error_line(out, NULL, code, msg);
}

int ctl_fail(struct ctl_call *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Is root a request?  0 with its id (NULL: a notification), method and
 * params, or an error message in err (and *id when one could be read).
 */
static int check_request(const struct json_node *root,
			 const struct json_node **id, const char **method,
			 const struct json_node **params, char *err,
			 size_t len)
{
	const struct json_node *v, *m, *p;
	char buf[48];

	*id = NULL;
	if (root->type != JSON_OBJECT)
		return snprintf(err, len, "a request is a JSON object, not %s%s",
				json_type_name(root->type),
				root->type == JSON_ARRAY ? " (batches are not supported)" : ""), -1;
	v = json_get(root, "id");
	if (v && v->type != JSON_STRING && v->type != JSON_NUMBER)
		return snprintf(err, len, "\"id\" must be a number or a string, not %s",
				json_type_name(v->type)), -1;
	*id = v;
	for (m = root->child; m; m = m->next) {
		if (!in_list(request_keys, m->key))
			return snprintf(err, len, "unknown member \"%s\" in the request (expected jsonrpc, id, method, params)",
					json_excerpt(buf, sizeof(buf), m->key)), -1;
	}
	v = json_get(root, "jsonrpc");
	if (!v || v->type != JSON_STRING || strcmp(v->s, "2.0"))
		return snprintf(err, len, "\"jsonrpc\" must be \"2.0\""), -1;
	m = json_get(root, "method");
	if (!m || m->type != JSON_STRING)
		return snprintf(err, len, "\"method\" must be a string%s",
				m ? "" : " and is missing"), -1;
	p = json_get(root, "params");
	if (p && p->type != JSON_OBJECT)
		return snprintf(err, len, "\"params\" must be an object, not %s",
				json_type_name(p->type)), -1;
	*method = m->s;
	*params = p;
	return 0;
}

/*
 * The names at first, first + stride... up to a NULL one, as "a, b or c"
 * (or "none") in buf.
 */
static void list_names(const char *const *first, size_t stride, char *buf,
		       size_t len)
{
	const char *const *p = first, *const *next;
	size_t n = 0;

	snprintf(buf, len, "none");
	for (; *p && n < len; p = next) {
		next = (const char *const *)((const char *)p + stride);
		n += snprintf(buf + n, len - n, "%s%s", p == first ? "" :
			      *next ? ", " : " or ", *p);
	}
}

static const struct ctl_method *find_method(const struct ctl_method *methods,
					    const char *name)
{
	for (; methods->name; methods++) {
		if (!strcmp(methods->name, name))
			return methods;
	}
	return NULL;
}

/* Run the method; its result or error to out (nothing for a notification). */
static void call(const struct ctl_method *methods, void *ctx,
		 const struct json_node *id, const char *method,
		 const struct json_node *params, struct sbuf *out)
{
	const struct ctl_method *m = find_method(methods, method);
	struct ctl_call c = { .ctx = ctx, .method = method,
			      .params = params, .out = out };
	size_t start = out->len;
	char buf[48], names[128];
	int code;

	if (!m) {
		list_names(&methods->name, sizeof(*methods), names, sizeof(names));
		snprintf(c.err, sizeof(c.err), "unknown method \"%s\" (expected %s)",
			 json_excerpt(buf, sizeof(buf), method), names);
		if (id)
			error_line(out, id, RPC_METHOD_NOT_FOUND, c.err);
		return;
	}
	response_head(out, id);
	sbuf_puts(out, ",\"result\":");
	code = m->fn(&c);
	if (code == 0 && out->oom)
		code = ctl_fail(&c, RPC_INTERNAL_ERROR, "out of memory");
	/* A notification gets no reply; a failed call an error instead. */
	if (code || !id)
		sbuf_truncate(out, start);
	if (code == 0 && id)
		sbuf_puts(out, "}\n");
	else if (code && id)
		error_line(out, id, code, c.err);
}

void ctl_rpc_line(const struct ctl_method *methods, void *ctx,
		  struct json_doc *doc, char *line, size_t len,
		  struct sbuf *out)
{
	const struct json_node *root = json_parse(doc, line, len), *id, *params;
	const char *method;
	char err[200];

	if (!root) {
		snprintf(err, sizeof(err), "parse error %s", doc->err);
		error_line(out, NULL, RPC_PARSE_ERROR, err);
		return;
	}
	if (check_request(root, &id, &method, &params, err, sizeof(err)) < 0) {
		error_line(out, id, RPC_INVALID_REQUEST, err);
		return;
	}
	call(methods, ctx, id, method, params, out);
}

int ctl_params_known(struct ctl_call *c, const char *const *keys)
{
	char buf[48], names[128];

	if (!c->params)
		return 0;
	for (const struct json_node *m = c->params->child; m; m = m->next) {
		if (in_list(keys, m->key))
			continue;
		list_names(keys, sizeof(*keys), names, sizeof(names));
		return ctl_fail(c, RPC_INVALID_PARAMS, "%s: unknown parameter \"%s\" (expected %s)",
				c->method, json_excerpt(buf, sizeof(buf), m->key),
				names);
	}
	return 0;
}

int ctl_param_str(struct ctl_call *c, const char *key, const char **s)
{
	const struct json_node *v = json_get(c->params, key);

	if (!v)
		return 0;
	if (v->type != JSON_STRING)
		return ctl_fail(c, RPC_INVALID_PARAMS, "%s: \"%s\" must be a string, not %s",
				c->method, key, json_type_name(v->type));
	*s = v->s;
	return 0;
}

int ctl_param_uint(struct ctl_call *c, const char *key, uint64_t max,
		   uint64_t *v, bool *given)
{
	const struct json_node *n = json_get(c->params, key);
	char buf[48];

	*given = n != NULL;
	if (!n)
		return 0;
	if (n->type != JSON_NUMBER)
		return ctl_fail(c, RPC_INVALID_PARAMS, "%s: \"%s\" must be an integer, not %s",
				c->method, key, json_type_name(n->type));
	if (json_uint64(n, v) < 0 || *v > max) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(n->len < 40 ? n->len : 40), n->s);
		return ctl_fail(c, RPC_INVALID_PARAMS, "%s: \"%s\" must be an integer from 0 to %llu, not %s%s",
				c->method, key, (unsigned long long)max, buf,
				n->len > 40 ? "..." : "");
	}
	return 0;
}
