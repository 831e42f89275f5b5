/* Vivarium guest agent: memory, growable byte buffers and base64. */
#define _GNU_SOURCE
#include "agent_buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- memory ---------------------------------------------------------------------------- */
_Noreturn void oom(void)
{
    /* Out of memory in a 512 MiB guest: vivarium-init restarts the agent. */
    static const char msg[] = "vivarium-agent: out of memory\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(70);
}
void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}
char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void buf_reserve(buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->n)
        oom();
    if (b->n + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}
void buf_printf(buf_t *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---- base64 ---------------------------------------------------------------------------- */
static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(buf_t *b, const unsigned char *d, size_t n)
{
    if (n == 0)
        return; /* b may have no storage yet (NULL + 0 is undefined) */
    buf_reserve(b, (n + 2) / 3 * 4);
    char *o = b->p + b->n;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        *o++ = b64chars[v >> 18];
        *o++ = b64chars[(v >> 12) & 63];
        *o++ = b64chars[(v >> 6) & 63];
        *o++ = b64chars[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0);
        *o++ = b64chars[v >> 18];
        *o++ = b64chars[(v >> 12) & 63];
        *o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->n = (size_t)(o - b->p);
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes like Python's base64.b64decode (non-strict): characters outside the alphabet are
 * skipped, decoding ends at the padding, a partial group needs its padding. The output is
 * at most 3/4 of the input, so it is written in place. Returns the length, or -1. */
long long b64_decode_inplace(char *s, size_t n, const char **why)
{
    unsigned char *out = (unsigned char *)s;
    size_t o = 0, q = 0;
    unsigned acc = 0;
    for (size_t i = 0; i < n; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            /* q==2 needs "==", q==3 needs "=": count the pads that follow (others skipped). */
            if (q < 2) {
                if (q == 0)
                    continue; /* stray padding before a group: ignored, as Python does */
                *why = "Incorrect padding";
                return -1;
            }
            size_t pads = 0;
            for (size_t j = i; j < n; ++j)
                if (s[j] == '=')
                    ++pads;
                else if (b64_val((unsigned char)s[j]) >= 0)
                    break;
            if (pads < 4 - q) {
                *why = "Incorrect padding";
                return -1;
            }
            if (q == 2)
                out[o++] = (unsigned char)(acc >> 4);
            else {
                out[o++] = (unsigned char)(acc >> 10);
                out[o++] = (unsigned char)(acc >> 2);
            }
            return (long long)o;
        }
        int v = b64_val(c);
        if (v < 0)
            continue;
        acc = acc << 6 | (unsigned)v;
        if (++q == 4) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            q = 0;
            acc = 0;
        }
    }
    if (q != 0) {
        *why = q == 1 ? "Invalid base64-encoded string" : "Incorrect padding";
        return -1;
    }
    return (long long)o;
}
