/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json.h: a small strict JSON parser (RFC 8259) for the control socket's
 * requests.  It parses one text in place: strings are decoded into the
 * caller's buffer (\u escapes included, as UTF-8) and NUL-terminated
 * there, numbers are kept as their text.  Bounded: at most JSON_MAX_DEPTH
 * nested arrays and objects, and as many values as the caller gives nodes
 * for (a request: JSON_MAX_NODES); nothing is allocated.  Refused, with a message
 * saying what and where: invalid UTF-8, invalid surrogates, \u0000,
 * duplicate keys in an object, anything after the value.  Nothing in the
 * input can make it assert.  Writing JSON is sbuf.h's (sbuf_json_str()).
 */
#ifndef VU_JSON_H
#define VU_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH	32
#define JSON_MAX_NODES	1024

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_node {
	enum json_type type;
	const char *key;		/* a member of an object: its name */
	const char *s;			/* string: decoded; number: its text */
	size_t len;			/* of s (a string may hold no NUL) */
	struct json_node *child;	/* array, object: the first element */
	struct json_node *next;		/* the next element of the parent */
	unsigned int n;			/* array, object: how many elements */
};

struct json_doc {
	struct json_node *nodes;	/* the caller's */
	unsigned int max;		/* how many: values a text may hold */
	unsigned int used;
	char err[160];			/* why json_parse() failed */
};

/* A document that parses into nodes[max]. */
void json_doc_init(struct json_doc *d, struct json_node *nodes,
		   unsigned int max);

/*
 * Parse the len bytes at text (changed in place; the nodes point into it).
 * Returns the root value, or NULL with the reason in d->err.
 */
struct json_node *json_parse(struct json_doc *d, char *text, size_t len);

/* An object's member named key, or NULL. */
const struct json_node *json_get(const struct json_node *obj, const char *key);

/*
 * A number that is an integer written without fraction or exponent, in
 * range.  Return 0, or -1 when it is not one (not a number, a fraction,
 * an exponent, negative for json_uint64(), out of range).
 */
int json_uint64(const struct json_node *n, uint64_t *out);
int json_int64(const struct json_node *n, int64_t *out);

/*
 * s (decoded, valid UTF-8) for a message: whole when it fits in len, else
 * cut at a character's start and ended with "...".  Returns buf.
 */
const char *json_excerpt(char *buf, size_t len, const char *s);

/* "a string", "a number", "an object"...: for messages. */
const char *json_type_name(enum json_type t);

#endif
