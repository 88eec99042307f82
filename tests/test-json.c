// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-json.c: unit tests of the control socket's JSON parser
 * (src/json.c): what RFC 8259 accepts is accepted and decoded exactly,
 * what it refuses is refused with a message saying what and where, and
 * the limits (depth, values) hold; the integer readers take exactly the
 * integers in range.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

static struct json_doc doc;
static struct json_node nodes[JSON_MAX_NODES];
static char buf[1 << 16];

static struct json_node *parse_len(const char *text, size_t len)
{
	json_doc_init(&doc, nodes, JSON_MAX_NODES);
	memcpy(buf, text, len);
	return json_parse(&doc, buf, len);
}

static struct json_node *parse(const char *text)
{
	return parse_len(text, strlen(text));
}

/* text is refused and the message contains want. */
static void refused(const char *what, const char *text, size_t len,
		    const char *want)
{
	struct json_node *n = parse_len(text, len);

	ok(!n && strstr(doc.err, want), "refused: %s (\"%s\")", what, doc.err);
}

static void refused_s(const char *what, const char *text, const char *want)
{
	refused(what, text, strlen(text), want);
}

static void test_accepted(void)
{
	struct json_node *r = parse(" {\"a\" : [1, -2.5e+3, \"x\", true, false, null, {}, []],\r\n\t\"b\":{\"c\":\"d\"}} ");
	const struct json_node *a = json_get(r, "a"), *b = json_get(r, "b");

	ok(r && r->type == JSON_OBJECT && r->n == 2, "an object of two members");
	ok(a && a->type == JSON_ARRAY && a->n == 8, "an array of eight values");
	ok(a && a->child->type == JSON_NUMBER && a->child->len == 1 &&
	   !strncmp(a->child->next->s, "-2.5e+3", a->child->next->len),
	   "numbers kept as their text");
	ok(b && json_get(b, "c") && !strcmp(json_get(b, "c")->s, "d"),
	   "nested member");
	ok(!json_get(r, "z") && !json_get(a, "a"), "absent members, and arrays have none");
	r = parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"");
	ok(r && r->type == JSON_STRING &&
	   !strcmp(r->s, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") &&
	   r->len == 18, "escapes decoded, surrogate pair to 4-byte UTF-8");
	r = parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	ok(r && r->len == 9, "raw UTF-8 kept");
	ok(parse("0") && parse("-0") && parse("1e5") && parse("0.5") &&
	   parse("true") && parse("[]"), "scalars and empty values at the top");
}

static void test_refused(void)
{
	char deep[200];

	refused_s("empty input", "", "expected a JSON value");
	refused_s("truncated object", "{\"a\":1", "expected ',' or '}'");
	refused_s("truncated string", "\"abc", "ends inside a string");
	refused_s("truncated escape", "\"\\u12", "4 hex digits");
	refused_s("bad escape", "\"\\x\"", "invalid escape \\'x'");
	refused_s("single quotes", "{'a':1}", "a member's name");
	refused_s("trailing comma", "[1,]", "expected a JSON value");
	refused_s("trailing garbage", "{} x", "nothing after the value");
	refused_s("two values", "1 2", "nothing after the value");
	refused_s("leading zero", "01", "nothing after the value");
	refused_s("plus sign", "+1", "expected a JSON value");
	refused_s("bare fraction", "1.", "digit after the decimal point");
	refused_s("bare exponent", "1e", "digit in the exponent");
	refused_s("NaN", "NaN", "expected a JSON value");
	refused_s("bad literal", "tru", "expected a JSON value");
	refused_s("duplicate key", "{\"a\":1,\"a\":2}", "duplicate key \"a\"");
	refused_s("\\u0000", "\"a\\u0000\"", "\\u0000 (NUL)");
	refused("raw NUL in a string", "\"a\0\"", 4, "control character 0x00");
	refused("raw NUL outside", "{}\0", 3, "byte 0x00");
	refused_s("raw newline in a string", "\"a\nb\"", "control character 0x0a");
	refused_s("lone low surrogate", "\"\\udc00\"", "low surrogate without");
	refused_s("lone high surrogate", "\"\\ud800x\"", "not followed by a low");
	refused_s("high then high", "\"\\ud800\\ud800\"", "not followed by a low");
	refused_s("invalid UTF-8 byte", "\"\xff\"", "invalid UTF-8");
	refused_s("overlong UTF-8", "\"\xc0\xaf\"", "invalid UTF-8");
	refused_s("UTF-8 surrogate", "\"\xed\xa0\x80\"", "invalid UTF-8");
	refused_s("UTF-8 past U+10FFFF", "\"\xf4\x90\x80\x80\"", "invalid UTF-8");
	refused_s("truncated UTF-8", "\"\xe2\x82\"", "invalid UTF-8");
	memset(deep, '[', 33);
	memset(deep + 33, ']', 33);
	deep[66] = 0;
	refused_s("33 levels", deep, "nested deeper than 32");
	deep[32] = 0;
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	deep[64] = 0;
	ok(parse(deep) != NULL, "32 levels are accepted");
}

static void test_nodes(void)
{
	static char text[8192];
	size_t n = 0;

	text[n++] = '[';
	for (int i = 0; i < JSON_MAX_NODES - 1; i++)
		n += sprintf(text + n, "%s0", i ? "," : "");
	text[n++] = ']';
	ok(parse_len(text, n) != NULL, "%d values are accepted", JSON_MAX_NODES);
	memcpy(text + n - 1, ",0]", 3);
	refused("one value more", text, n + 2, "more than 1024 values");
}

static bool u64_is(const char *text, uint64_t want)
{
	uint64_t v = ~want;

	return json_uint64(parse(text), &v) == 0 && v == want;
}

static bool i64_is(const char *text, int64_t want)
{
	int64_t v = ~want;

	return json_int64(parse(text), &v) == 0 && v == want;
}

static void test_integers(void)
{
	uint64_t u;
	int64_t i;

	ok(u64_is("0", 0) && u64_is("18446744073709551615", UINT64_MAX) &&
	   u64_is("-0", 0), "json_uint64: 0, 2^64-1, -0");
	ok(json_uint64(parse("18446744073709551616"), &u) < 0 &&
	   json_uint64(parse("-1"), &u) < 0 &&
	   json_uint64(parse("1.0"), &u) < 0 &&
	   json_uint64(parse("1e3"), &u) < 0 &&
	   json_uint64(parse("\"1\""), &u) < 0 && json_uint64(NULL, &u) < 0,
	   "json_uint64 refuses 2^64, -1, 1.0, 1e3, a string, nothing");
	ok(i64_is("-9223372036854775808", INT64_MIN) &&
	   i64_is("9223372036854775807", INT64_MAX) && i64_is("-5", -5),
	   "json_int64: both ends of the range");
	ok(json_int64(parse("9223372036854775808"), &i) < 0 &&
	   json_int64(parse("-9223372036854775809"), &i) < 0 &&
	   json_int64(parse("-"), &i) < 0, "json_int64 refuses past both ends");
}

static void test_excerpt(void)
{
	char b[8];

	ok(!strcmp(json_excerpt(b, sizeof(b), "abc"), "abc"), "a short text whole");
	ok(!strcmp(json_excerpt(b, sizeof(b), "abc\xe2\x82\xac" "def"), "abc..."),
	   "a long one cut before a character, with ...");
}

int main(void)
{
	test_accepted();
	test_refused();
	test_nodes();
	test_integers();
	test_excerpt();
	return tap_done();
}
