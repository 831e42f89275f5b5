/* Host-side unit test of the guest agent's buffers, base64 and JSON modules
 * (resources/guest/agent_buf.c, agent_json.c): the code that reads every request the agent
 * gets as root. Tricky inputs: escapes, \u surrogates, nesting and node limits, truncated
 * text, huge numbers, invalid UTF-8 on output, Python-compatible base64 padding rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_buf.h"
#include "agent_json.h"

static int failures;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);           \
            ++failures;                                                                        \
        }                                                                                      \
    } while (0)

/* Parses a copy of `text` (the parser works in place); the result lives until the next call. */
static jparser g_ps;
static char *g_text;
static jnode *parse_n(const char *text, size_t n)
{
    jfree(&g_ps);
    free(g_text);
    g_text = malloc(n + 1);
    memcpy(g_text, text, n);
    g_text[n] = 0;
    return jparse(&g_ps, g_text, n);
}
static jnode *parse(const char *text) { return parse_n(text, strlen(text)); }

/* The canonical text of a value, NUL-terminated; the caller frees it. */
static char *emit(const jnode *v)
{
    buf_t b = {0};
    jput_value(&b, v);
    buf_addc(&b, 0);
    return b.p;
}
static int emits(const char *text, const char *want)
{
    jnode *v = parse(text);
    if (!v) {
        fprintf(stderr, "  did not parse: %s\n", text);
        return 0;
    }
    char *got = emit(v);
    int ok = strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "  %s\n  emitted %s\n  wanted  %s\n", text, got, want);
    free(got);
    return ok;
}
static int emits_str(const char *bytes, size_t n, const char *want)
{
    buf_t b = {0};
    jput_str(&b, bytes, n);
    buf_addc(&b, 0);
    int ok = strcmp(b.p, want) == 0;
    if (!ok)
        fprintf(stderr, "  emitted %s\n  wanted  %s\n", b.p, want);
    buf_free(&b);
    return ok;
}
/* A string value's decoded bytes. */
static int decodes_to(const char *text, const char *bytes, size_t n)
{
    jnode *v = parse(text);
    return v && v->type == J_STR && v->len == n && memcmp(v->str, bytes, n) == 0 && v->str[n] == 0;
}

static void test_literals_and_structure(void)
{
    CHECK(parse("null") && g_ps.chunks[0][0].type == J_NULL);
    CHECK(parse(" \t\r\ntrue \n")->type == J_TRUE);
    CHECK(parse("false")->type == J_FALSE);
    CHECK(!parse(""));
    CHECK(!parse("   "));
    CHECK(!parse("tru"));
    CHECK(!parse("nul"));
    CHECK(!parse("True"));
    CHECK(!parse("true false"));
    CHECK(!parse("{} x"));
    CHECK(!parse("[1,]"));
    CHECK(!parse("[,1]"));
    CHECK(!parse("{\"a\":1,}"));
    CHECK(!parse("{\"a\" 1}"));
    CHECK(!parse("{1:2}"));
    CHECK(!parse("{'a':1}"));
    CHECK(!parse("[1 2]"));
    CHECK(emits(" { \"a\" : [ 1 , 2.5 , \"x\" ] , \"b\" : { } , \"c\" : [ ] } ",
                "{\"a\":[1,2.5,\"x\"],\"b\":{},\"c\":[]}"));

    /* Duplicate keys: jget answers the last one (as a Python dict); both are kept in order. */
    jnode *o = parse("{\"op\":\"a\",\"id\":1,\"op\":\"b\"}");
    CHECK(o && o->type == J_OBJ);
    CHECK(jget(o, "op") && strcmp(jget(o, "op")->str, "b") == 0);
    CHECK(jget(o, "id") && jget(o, "id")->num == 1);
    CHECK(!jget(o, "o"));
    CHECK(!jget(o, "opx"));
    CHECK(!jget(jget(o, "id"), "x")); /* not an object */
    CHECK(!jget(NULL, "x"));
    CHECK(emits("{\"op\":\"a\",\"op\":\"b\"}", "{\"op\":\"a\",\"op\":\"b\"}"));
    /* A key with an embedded NUL does not match the C string before it. */
    o = parse("{\"a\\u0000b\":1}");
    CHECK(o && !jget(o, "a"));

    /* Truthiness, as `req.get(x) or default`. */
    CHECK(!jtruthy(NULL));
    CHECK(!jtruthy(parse("null")));
    CHECK(!jtruthy(parse("false")));
    CHECK(jtruthy(parse("true")));
    CHECK(!jtruthy(parse("0")));
    CHECK(!jtruthy(parse("-0.0")));
    CHECK(jtruthy(parse("0.1")));
    CHECK(!jtruthy(parse("\"\"")));
    CHECK(jtruthy(parse("\"\\u0000\""))); /* a one-byte string, even if that byte is NUL */
    CHECK(!jtruthy(parse("[]")));
    CHECK(!jtruthy(parse("{}")));
    CHECK(jtruthy(parse("[null]")));
}

static void test_string_escapes(void)
{
    CHECK(decodes_to("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8));
    CHECK(decodes_to("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6));
    CHECK(decodes_to("\"\\u0000\"", "\0", 1));
    CHECK(decodes_to("\"a\\u0000b\"", "a\0b", 3));
    CHECK(decodes_to("\"\xc3\xa9\"", "\xc3\xa9", 2));           /* raw UTF-8 passes */
    CHECK(decodes_to("\"\xff\"", "\xff", 1));                   /* so do raw non-UTF-8 bytes */
    CHECK(decodes_to("\"\x7f\"", "\x7f", 1));                   /* DEL is not a control char */
    /* Surrogates: a pair is one code point; a lone one becomes U+FFFD. */
    CHECK(decodes_to("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4));
    CHECK(decodes_to("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", 4));
    CHECK(decodes_to("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
    CHECK(decodes_to("\"\\ud800\"", "\xef\xbf\xbd", 3));
    CHECK(decodes_to("\"\\udc00\"", "\xef\xbf\xbd", 3));
    CHECK(decodes_to("\"\\ud800x\"", "\xef\xbf\xbdx", 4));
    CHECK(decodes_to("\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A", 4));
    CHECK(decodes_to("\"\\ud800\\ud800\\udc00\"", "\xef\xbf\xbd\xf0\x90\x80\x80", 7));
    CHECK(decodes_to("\"\\udc00\\ud800\"", "\xef\xbf\xbd\xef\xbf\xbd", 6)); /* wrong order */
    CHECK(decodes_to("\"\\ud800\\n\"", "\xef\xbf\xbd\n", 4));
    /* Malformed escapes and strings. */
    CHECK(!parse("\"\\x\""));
    CHECK(!parse("\"\\u12\""));
    CHECK(!parse("\"\\u12g4\""));
    CHECK(!parse("\"\\U0041\""));
    CHECK(!parse("\"\\ud800\\u12\""));   /* a truncated low half is a bad escape */
    CHECK(!parse("\"\\ud800\\u00"));     /* input ends inside the second escape */
    CHECK(!parse("\"\\u00"));
    CHECK(!parse("\"\\"));
    CHECK(!parse("\"abc"));
    CHECK(!parse("\""));
    CHECK(!parse("\"a\x01\""));          /* raw control characters are not allowed */
    CHECK(!parse("\"a\nb\""));
    CHECK(!parse_n("\"a\0b\"", 5));      /* nor a raw NUL */
}

static void test_numbers(void)
{
    CHECK(emits("0", "0"));
    CHECK(emits("-0", "0"));
    CHECK(emits("-0.0", "0"));
    CHECK(emits("1.5e3", "1500"));
    CHECK(emits("1.5E+3", "1500"));
    CHECK(emits("25e-1", "2.5"));
    CHECK(emits("0.1", "0.10000000000000001"));
    CHECK(emits("-12.75", "-12.75"));
    CHECK(emits("9007199254740991", "9007199254740991"));
    CHECK(emits("-9007199254740991", "-9007199254740991"));
    CHECK(emits("9007199254740993", "9007199254740992")); /* past 2^53: a double, as %.17g */
    CHECK(emits("123456789012345678901234567890", "1.2345678901234568e+29"));
    CHECK(emits("1e308", "1e+308"));
    CHECK(emits("1e400", "null"));   /* overflows to infinity: no JSON form */
    CHECK(emits("-1e400", "null"));
    CHECK(emits("1e-400", "0"));     /* underflows to zero */
    CHECK(emits("[1e999,2]", "[null,2]"));
    /* 63 characters is the most a number may have; 64 is refused. */
    char big[80];
    memset(big, '9', 63);
    big[63] = 0;
    CHECK(parse(big) && isfinite(parse(big)->num));
    memset(big, '9', 64);
    big[64] = 0;
    CHECK(!parse(big));
    big[0] = '-';
    big[63] = 0;
    CHECK(parse(big) && parse(big)->num < -9e61);
    CHECK(!parse("01"));
    CHECK(!parse("-01"));
    CHECK(!parse("1."));
    CHECK(!parse(".5"));
    CHECK(!parse("-"));
    CHECK(!parse("+1"));
    CHECK(!parse("1e"));
    CHECK(!parse("1e+"));
    CHECK(!parse("0x10"));
    CHECK(!parse("NaN"));
    CHECK(!parse("Infinity"));
    CHECK(!parse("1.5.2"));
}

static char *repeat(const char *open, int n, const char *mid, const char *close)
{
    size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
    char *s = malloc((size_t)n * (lo + lc) + lm + 1), *p = s;
    for (int i = 0; i < n; ++i, p += lo)
        memcpy(p, open, lo);
    memcpy(p, mid, lm);
    p += lm;
    for (int i = 0; i < n; ++i, p += lc)
        memcpy(p, close, lc);
    *p = 0;
    return s;
}

static void test_nesting_and_node_limits(void)
{
    char *s = repeat("[", MAX_DEPTH, "1", "]");
    CHECK(parse(s));
    free(s);
    s = repeat("[", MAX_DEPTH + 1, "1", "]");
    CHECK(!parse(s));
    free(s);
    s = repeat("{\"a\":", MAX_DEPTH, "{}", "}"); /* the innermost {} is level MAX_DEPTH + 1 */
    CHECK(!parse(s));
    free(s);
    s = repeat("{\"a\":", MAX_DEPTH - 1, "[]", "}");
    CHECK(parse(s));
    free(s);
    /* Siblings do not add depth. */
    s = repeat("[", MAX_DEPTH - 1, "[],[],[1,[]]", "]");
    CHECK(!parse(s)); /* [1,[]] inside MAX_DEPTH - 1 levels nests MAX_DEPTH + 1 deep */
    free(s);
    s = repeat("[", MAX_DEPTH - 1, "[],[],[1]", "]");
    CHECK(parse(s));
    free(s);
    /* Very deep input fails cleanly (no stack overflow: the limit stops the recursion). */
    s = repeat("[", 1000000, "", "");
    CHECK(!parse(s));
    free(s);

    /* At most MAX_NODES values per parse: an array of MAX_NODES - 1 zeros is MAX_NODES. */
    size_t count = MAX_NODES - 1;
    char *a = malloc(count * 2 + 2);
    a[0] = '[';
    for (size_t i = 0; i < count; ++i) {
        a[1 + 2 * i] = '0';
        a[2 + 2 * i] = ',';
    }
    a[count * 2] = ']';
    a[count * 2 + 1] = 0;
    jnode *v = parse(a);
    CHECK(v && v->type == J_ARR && v->last && v->last->type == J_NUM);
    free(a);
    count = MAX_NODES;
    a = malloc(count * 2 + 2);
    a[0] = '[';
    for (size_t i = 0; i < count; ++i) {
        a[1 + 2 * i] = '0';
        a[2 + 2 * i] = ',';
    }
    a[count * 2] = ']';
    a[count * 2 + 1] = 0;
    CHECK(!parse(a));
    free(a);
}

/* Every proper prefix of a request fails to parse: a line cut short is never half-read. */
static void test_truncated_input(void)
{
    const char *doc = "{\"id\":[1,-2.5e3,\"\\ud83d\\ude00\\n\"],\"op\":\"exec\",\"argv\":[\"sh\",\"-c\","
                      "\"echo \\\"hi\\\"\"],\"env\":{\"A\":\"1\",\"B\":null,\"C\":true,\"D\":false},"
                      "\"stream\":true}";
    size_t n = strlen(doc);
    CHECK(parse(doc));
    for (size_t k = 0; k < n; ++k)
        if (parse_n(doc, k)) {
            fprintf(stderr, "  prefix of length %zu parsed\n", k);
            ++failures;
        }
}

static void test_emit(void)
{
    CHECK(emits_str("", 0, "\"\""));
    CHECK(emits_str("a\"b\\c/", 6, "\"a\\\"b\\\\c/\""));
    CHECK(emits_str("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\""));
    CHECK(emits_str("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""));
    CHECK(emits_str("a\0b", 3, "\"a\\u0000b\""));
    CHECK(emits_str("\xc3\xa9", 2, "\"\\u00e9\""));
    CHECK(emits_str("\xe2\x82\xac", 3, "\"\\u20ac\""));
    CHECK(emits_str("\xf0\x9f\x98\x80", 4, "\"\\ud83d\\ude00\""));
    CHECK(emits_str("\xf4\x8f\xbf\xbf", 4, "\"\\udbff\\udfff\""));
    /* Bytes that are not UTF-8 come out as \udc80-\udcff (Python's surrogateescape). */
    CHECK(emits_str("\xff", 1, "\"\\udcff\""));
    CHECK(emits_str("\x80", 1, "\"\\udc80\""));
    CHECK(emits_str("\xc0\x80", 2, "\"\\udcc0\\udc80\""));               /* overlong NUL */
    CHECK(emits_str("\xe0\x80\x80", 3, "\"\\udce0\\udc80\\udc80\""));   /* overlong */
    CHECK(emits_str("\xed\xa0\x80", 3, "\"\\udced\\udca0\\udc80\""));   /* encoded surrogate */
    CHECK(emits_str("\xf4\x90\x80\x80", 4, "\"\\udcf4\\udc90\\udc80\\udc80\"")); /* > U+10FFFF */
    CHECK(emits_str("\xf0\x80\x80\x80", 4, "\"\\udcf0\\udc80\\udc80\\udc80\"")); /* overlong */
    CHECK(emits_str("\xe2\x82", 2, "\"\\udce2\\udc82\""));              /* cut short at the end */
    CHECK(emits_str("\xe2x\xac", 3, "\"\\udce2x\\udcac\""));            /* bad continuation */
    CHECK(emits_str("\xc3\xa9\xff" "a", 4, "\"\\u00e9\\udcffa\""));
    /* Decoded strings re-emit canonically. */
    CHECK(emits("\"\\u00E9\\/\\ud800\"", "\"\\u00e9/\\ufffd\""));
    CHECK(emits("[true,false,null,{\"k\\n\":\"v\"}]", "[true,false,null,{\"k\\n\":\"v\"}]"));

    /* Emitted text parses back to the same canonical text. */
    const char *docs[] = {"{\"a\":\"\\u0000\\ud83d\\ude00\\ud800\xff\",\"b\":[1e400,-0,0.1,1e22]}",
                          "[[[[]]],{},\"\\u001f\",123456789012345678901234567890]"};
    for (size_t i = 0; i < sizeof docs / sizeof *docs; ++i) {
        char *once = emit(parse(docs[i]));
        jnode *again = parse(once);
        CHECK(again);
        if (again) {
            char *twice = emit(again);
            char *thrice = emit(parse(twice));
            CHECK(strcmp(twice, thrice) == 0);
            free(twice);
            free(thrice);
        }
        free(once);
    }

    buf_t b = {0};
    buf_printf(&b, "%d-%s", 42, "x");
    CHECK(b.n == 4 && memcmp(b.p, "42-x", 4) == 0);
    b.n = 0;
    char longs[300];
    memset(longs, 'y', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    buf_printf(&b, "%s", longs); /* bounded: at most 127 bytes per call */
    CHECK(b.n == 127);
    buf_free(&b);
    CHECK(b.p == NULL && b.n == 0 && b.cap == 0);
}

static int b64_decodes(const char *in, const char *want, long long wantn)
{
    char *s = strdup(in);
    const char *why = "";
    long long n = b64_decode_inplace(s, strlen(s), &why);
    int ok = n == wantn && (n < 0 || memcmp(s, want, (size_t)n) == 0);
    if (!ok)
        fprintf(stderr, "  b64 %s: got %lld (%s)\n", in, n, why);
    free(s);
    return ok;
}
static int b64_fails(const char *in, const char *why_want)
{
    char *s = strdup(in);
    const char *why = "";
    long long n = b64_decode_inplace(s, strlen(s), &why);
    free(s);
    return n == -1 && strcmp(why, why_want) == 0;
}
static int b64_encodes(const char *in, size_t n, const char *want)
{
    buf_t b = {0};
    buf_adds(&b, "<"); /* appends after what is there */
    b64_encode(&b, (const unsigned char *)in, n);
    buf_addc(&b, 0);
    int ok = b.p[0] == '<' && strcmp(b.p + 1, want) == 0;
    buf_free(&b);
    return ok;
}

static void test_base64(void)
{
    /* RFC 4648 vectors. */
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; ++i) {
        CHECK(b64_encodes(plain[i], strlen(plain[i]), coded[i]));
        CHECK(b64_decodes(coded[i], plain[i], (long long)strlen(plain[i])));
    }
    CHECK(b64_encodes("\xff\xfe\x00", 3, "//4A"));
    CHECK(b64_decodes("+/+/", "\xfb\xff\xbf", 3));
    /* Non-strict, like Python's b64decode: characters outside the alphabet are skipped. */
    CHECK(b64_decodes("Zm9v\nYmFy\n", "foobar", 6));
    CHECK(b64_decodes("Z m 9 v!", "foo", 3));
    CHECK(b64_decodes("@@@", "", 0));
    CHECK(b64_decodes("=Zg==", "f", 1));          /* stray padding before a group: ignored */
    CHECK(b64_decodes("Zg==Zm9v", "f", 1));       /* decoding ends at the padding */
    CHECK(b64_decodes("Zg=!=", "f", 1));          /* junk between the pads is skipped */
    CHECK(b64_decodes("Zm8=Zg", "fo", 2));
    CHECK(b64_decodes("Zg===", "f", 1));
    CHECK(b64_fails("Zg=x=", "Incorrect padding")); /* an alphabet char ends the pad count */
    CHECK(b64_fails("Zg=", "Incorrect padding"));
    CHECK(b64_fails("Zg", "Incorrect padding"));
    CHECK(b64_fails("Zm8", "Incorrect padding"));
    CHECK(b64_fails("Z", "Invalid base64-encoded string"));
    CHECK(b64_fails("Zm9vY", "Invalid base64-encoded string"));
    CHECK(b64_fails("Zm9vY=", "Incorrect padding"));
    /* Every byte value and every length mod 3 round-trips. */
    unsigned char all[256 + 2];
    for (int i = 0; i < 258; ++i)
        all[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof all; ++n) {
        buf_t b = {0};
        b64_encode(&b, all, n);
        CHECK(b.n == (n + 2) / 3 * 4);
        const char *why = "";
        long long got = b.n ? b64_decode_inplace(b.p, b.n, &why) : 0;
        CHECK(got == (long long)n && (n == 0 || memcmp(b.p, all, n) == 0));
        buf_free(&b);
    }
}

int main(void)
{
    test_literals_and_structure();
    test_string_escapes();
    test_numbers();
    test_nesting_and_node_limits();
    test_truncated_input();
    test_emit();
    test_base64();
    jfree(&g_ps);
    free(g_text);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all guest JSON/base64 checks passed\n");
    return 0;
}
