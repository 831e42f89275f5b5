/* libFuzzer target for the guest agent's JSON parser and emitter (resources/guest/agent_json.c)
 * and its base64 decoder (agent_buf.c): the code that reads every request line the agent gets,
 * as root, inside the sandbox VM.
 *
 * Properties checked besides "no crash, no sanitizer report":
 *   - whatever parses re-emits as text that parses again (the emitter's output is valid JSON
 *     within the parser's limits), and a second round trip is a fixed point;
 *   - base64 that decodes re-encodes to text that decodes to the same bytes.
 *
 * Build by hand (the fuzz CMake wiring lives in tests/fuzz/CMakeLists.txt):
 *   clang -g -fsanitize=fuzzer,address,undefined -I resources/guest tests/fuzz/fuzz_guest_json.c \
 *         resources/guest/agent_buf.c resources/guest/agent_json.c -lm -o fuzz_guest_json
 *   ./fuzz_guest_json -max_total_time=120 <copy of tests/fuzz/corpus/guest_json> */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_buf.h"
#include "agent_json.h"

static char *emit(const jnode *v, size_t *n)
{
    buf_t b = {0};
    jput_value(&b, v);
    *n = b.n;
    return b.p;
}

/* Parses a private copy of s[0..n) (the parser decodes in place and reads no further than n). */
static jnode *parse_copy(jparser *ps, char **copy, const char *s, size_t n)
{
    *copy = malloc(n ? n : 1);
    if (n)
        memcpy(*copy, s, n);
    return jparse(ps, *copy, n);
}

static void check_json(const uint8_t *data, size_t size)
{
    jparser p1 = {0}, p2 = {0}, p3 = {0};
    char *c1, *c2 = NULL, *c3 = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL;
    size_t n1 = 0, n2 = 0, n3 = 0;
    jnode *v = parse_copy(&p1, &c1, (const char *)data, size);
    if (v) {
        /* Exercise the lookups the dispatcher does. */
        (void)jtruthy(jget(v, "id"));
        (void)jtruthy(jget(v, "op"));
        e1 = emit(v, &n1);
        jnode *v2 = parse_copy(&p2, &c2, e1, n1);
        if (!v2)
            abort(); /* the emitter wrote something its own parser refuses */
        e2 = emit(v2, &n2);
        jnode *v3 = parse_copy(&p3, &c3, e2, n2);
        if (!v3)
            abort();
        e3 = emit(v3, &n3);
        if (n2 != n3 || (n2 && memcmp(e2, e3, n2) != 0))
            abort(); /* canonical text is not a fixed point */
    }
    free(e1);
    free(e2);
    free(e3);
    free(c1);
    free(c2);
    free(c3);
    jfree(&p1);
    jfree(&p2);
    jfree(&p3);
}

static void check_base64(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (size)
        memcpy(s, data, size);
    const char *why = "";
    long long n = b64_decode_inplace(s, size, &why);
    if (n > (long long)size)
        abort();
    if (n > 0) {
        buf_t b = {0};
        b64_encode(&b, (const unsigned char *)s, (size_t)n);
        long long m = b64_decode_inplace(b.p, b.n, &why);
        if (m != n || memcmp(b.p, s, (size_t)n) != 0)
            abort();
        buf_free(&b);
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_json(data, size);
    check_base64(data, size);
    return 0;
}
