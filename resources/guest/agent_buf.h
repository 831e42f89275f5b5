/* Vivarium guest agent: memory, growable byte buffers and base64. libc only. */
#ifndef VIVARIUM_AGENT_BUF_H
#define VIVARIUM_AGENT_BUF_H

#include <stddef.h>
#include <string.h>

/* Out of memory: exits the agent (vivarium-init restarts it). */
_Noreturn void oom(void);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);

/* A growable byte buffer; {0} is an empty one. Not NUL-terminated unless a 0 is added. */
typedef struct {
    char *p;
    size_t n, cap;
} buf_t;

void buf_reserve(buf_t *b, size_t extra);
static inline void buf_add(buf_t *b, const void *d, size_t n)
{
    if (n == 0)
        return; /* an empty buffer has no storage yet: nothing to copy into */
    buf_reserve(b, n);
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static inline void buf_adds(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }
static inline void buf_addc(buf_t *b, char c) { buf_add(b, &c, 1); }
/* At most 127 bytes per call (numbers, short escapes). */
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(buf_t *b);

/* Appends the base64 of d[0..n). */
void b64_encode(buf_t *b, const unsigned char *d, size_t n);
/* Decodes like Python's base64.b64decode (non-strict), in place; the decoded length, or -1
 * with *why set to Python's message. */
long long b64_decode_inplace(char *s, size_t n, const char **why);

#endif
