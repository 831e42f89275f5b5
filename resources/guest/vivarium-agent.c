/* Vivarium guest agent (compiled; replaces the earlier agent.py, same protocol).
 *
 * Speaks newline-delimited JSON over the virtio-serial port named `vivarium.agent` (or the
 * path given as argv[1]). One request per line: {"id": N, "op": "...", ...}; every reply
 * carries the request's id. Binary payloads are base64. Single-threaded: one poll() loop
 * multiplexes the port, the children's pipes (stdout/stderr to read, stdin to write) and a
 * signalfd for SIGCHLD, so many execs run at once and nothing blocks on a slow child.
 *
 * Ops (fields as in the host's GuestChannel/SandboxManager):
 *   hello                      -> {"type":"ready","version":1}
 *   exec   argv env clear_env cwd stdin(b64) keep_stdin stream timeout_ms max_output
 *          -> keep_stdin: {"type":"started","pid"} first; stream: {"type":"out","fd":1|2,"data"}
 *             while it runs; always {"type":"exit","code","signal","timed_out","truncated"
 *             [,"stdout","stderr" when not streaming]} last. The child gets its own session
 *             (process group); a timeout or `kill` signals the whole group.
 *   stdin  target data(b64) eof -> {"ok":bool} once the data is in the pipe (false: broken)
 *   kill   target signal        -> {"ok":true}
 *   read   path offset limit    -> {"data","size","eof"}
 *   write  path data mkdirs append mode -> {"size"}
 *   list   path -> {"entries":[...]}   stat path -> {"entry":{...}}
 *   mkdir  path -> {"ok":true}         remove path -> {"ok":true}
 *   reseed data(b64)            -> {"ok":true}: mixes the host's random bytes into the kernel's
 *          pool (credited) and reseeds its CRNG. A VM restored from a shared snapshot would
 *          otherwise produce the same random numbers as its siblings.
 * Errors: {"type":"error","message","errno":"ENOENT"|...|""}.
 *
 * It runs as root in the guest, so input is handled defensively: request lines are bounded,
 * the JSON parser bounds nesting, rejects malformed text and never trusts lengths, and a bad
 * request only ever gets an error reply. No dependencies beyond libc; built statically. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VERSION 1
#define PORT_NAME "vivarium.agent"
#define DEFAULT_MAX_OUTPUT (8LL * 1024 * 1024)
#define MAX_LINE (96u * 1024 * 1024)     /* the host's largest request: a 32 MiB file, base64 */
#define MAX_READ (64LL * 1024 * 1024)    /* the most one `read` returns */
#define MAX_DEPTH 64
#define PIPE_CHUNK 65536

extern char **environ;

/* ---- memory ---------------------------------------------------------------------------- */
static _Noreturn void oom(void)
{
    /* Out of memory in a 512 MiB guest: vivarium-init restarts the agent. */
    static const char msg[] = "vivarium-agent: out of memory\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(70);
}
static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}
static char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

typedef struct {
    char *p;
    size_t n, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t extra)
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
static void buf_add(buf_t *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void buf_adds(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }
static void buf_addc(buf_t *b, char c) { buf_add(b, &c, 1); }
static void buf_printf(buf_t *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
static void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- base64 ---------------------------------------------------------------------------- */
static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(buf_t *b, const unsigned char *d, size_t n)
{
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
static long long b64_decode_inplace(char *s, size_t n, const char **why)
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

/* ---- JSON: parse (in place) ------------------------------------------------------------ */
enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jnode {
    int type;
    double num;
    char *str; /* J_STR: decoded, NUL-terminated (may hold NULs: see len) */
    size_t len;
    const char *key; /* member of an object: its decoded key */
    size_t klen;
    struct jnode *child, *last, *next;
} jnode;

typedef struct {
    char *p, *end;
    int depth;
    /* node arena */
    jnode **chunks;
    size_t nchunks, used;
} jparser;

#define JCHUNK 256
#define MAX_NODES (1u << 20) /* a request has a few dozen values; argv/env at most thousands */
static jnode *jalloc(jparser *ps)
{
    if (ps->nchunks * JCHUNK >= MAX_NODES && ps->used == JCHUNK)
        return NULL;
    if (ps->nchunks == 0 || ps->used == JCHUNK) {
        ps->chunks = xrealloc(ps->chunks, (ps->nchunks + 1) * sizeof *ps->chunks);
        ps->chunks[ps->nchunks++] = xrealloc(NULL, JCHUNK * sizeof(jnode));
        ps->used = 0;
    }
    jnode *n = &ps->chunks[ps->nchunks - 1][ps->used++];
    memset(n, 0, sizeof *n);
    return n;
}
static void jfree(jparser *ps)
{
    for (size_t i = 0; i < ps->nchunks; ++i)
        free(ps->chunks[i]);
    free(ps->chunks);
    ps->chunks = NULL;
    ps->nchunks = ps->used = 0;
}

static void jws(jparser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *s, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; ++i) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 63));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | ((cp >> 6) & 63));
        *o++ = (char)(0x80 | (cp & 63));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | ((cp >> 12) & 63));
        *o++ = (char)(0x80 | ((cp >> 6) & 63));
        *o++ = (char)(0x80 | (cp & 63));
    }
    return o;
}

/* Parses a string at ps->p (on its opening quote); decodes it in place: every escape is at
 * least as long as what it decodes to, so the output never overtakes the input. */
static int jstring(jparser *ps, char **out, size_t *outlen)
{
    char *p = ps->p + 1, *o = p, *start = p;
    for (;;) {
        if (p >= ps->end)
            return -1;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            *o++ = *p++;
            continue;
        }
        if (p + 1 >= ps->end)
            return -1;
        char e = p[1];
        p += 2;
        switch (e) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp;
            if (ps->end - p < 4 || hex4(p, &cp) < 0)
                return -1;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && ps->end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned lo;
                if (hex4(p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000)
                cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
            o = put_utf8(o, cp);
            break;
        }
        default:
            return -1;
        }
    }
    *outlen = (size_t)(o - start);
    ps->p = p + 1; /* past the closing quote */
    *o = 0;        /* o <= the closing quote's position, which is consumed */
    *out = start;
    return 0;
}

static jnode *jvalue(jparser *ps);

static int jnumber(jparser *ps, double *v)
{
    char *s = ps->p, *p = s;
    if (p < ps->end && *p == '-')
        p++;
    if (p >= ps->end)
        return -1;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    else
        return -1;
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return -1;
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return -1;
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    char tmp[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof tmp)
        return -1; /* no sane request has such a number */
    memcpy(tmp, s, n);
    tmp[n] = 0;
    *v = strtod(tmp, NULL);
    ps->p = p;
    return 0;
}

static jnode *jvalue(jparser *ps)
{
    jws(ps);
    if (ps->p >= ps->end)
        return NULL;
    jnode *n = jalloc(ps);
    if (!n)
        return NULL;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        if (++ps->depth > MAX_DEPTH)
            return NULL;
        n->type = c == '{' ? J_OBJ : J_ARR;
        char close = c == '{' ? '}' : ']';
        ps->p++;
        jws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return n;
        }
        for (;;) {
            char *key = NULL;
            size_t klen = 0;
            if (n->type == J_OBJ) {
                jws(ps);
                if (ps->p >= ps->end || *ps->p != '"' || jstring(ps, &key, &klen) < 0)
                    return NULL;
                jws(ps);
                if (ps->p >= ps->end || *ps->p != ':')
                    return NULL;
                ps->p++;
            }
            jnode *v = jvalue(ps);
            if (!v)
                return NULL;
            v->key = key;
            v->klen = klen;
            if (n->last)
                n->last->next = v;
            else
                n->child = v;
            n->last = v;
            jws(ps);
            if (ps->p >= ps->end)
                return NULL;
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == close) {
                ps->p++;
                ps->depth--;
                return n;
            }
            return NULL;
        }
    }
    if (c == '"') {
        n->type = J_STR;
        return jstring(ps, &n->str, &n->len) < 0 ? NULL : n;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        n->type = J_NUM;
        return jnumber(ps, &n->num) < 0 ? NULL : n;
    }
    static const struct { const char *word; int type; } words[] = {
        {"true", J_TRUE}, {"false", J_FALSE}, {"null", J_NULL}};
    for (size_t i = 0; i < 3; ++i) {
        size_t l = strlen(words[i].word);
        if ((size_t)(ps->end - ps->p) >= l && memcmp(ps->p, words[i].word, l) == 0) {
            ps->p += l;
            n->type = words[i].type;
            return n;
        }
    }
    return NULL;
}

/* Parses one whole line; NULL when it is not exactly one JSON value. */
static jnode *jparse(jparser *ps, char *s, size_t n)
{
    ps->p = s;
    ps->end = s + n;
    ps->depth = 0;
    jnode *v = jvalue(ps);
    if (!v)
        return NULL;
    jws(ps);
    return ps->p == ps->end ? v : NULL;
}

/* The last member named `key` (Python's dict keeps the last duplicate). */
static jnode *jget(const jnode *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ)
        return NULL;
    size_t kl = strlen(key);
    jnode *found = NULL;
    for (jnode *c = obj->child; c; c = c->next)
        if (c->klen == kl && memcmp(c->key, key, kl) == 0)
            found = c;
    return found;
}
/* Python truthiness, as the reference agent's `req.get(x) or default` reads fields. */
static int jtruthy(const jnode *v)
{
    if (!v)
        return 0;
    switch (v->type) {
    case J_NULL: case J_FALSE: return 0;
    case J_TRUE: return 1;
    case J_NUM: return v->num != 0;
    case J_STR: return v->len != 0;
    default: return v->child != NULL;
    }
}

/* ---- JSON: emit ------------------------------------------------------------------------ */
/* Strings are written ASCII-only (as Python's json.dumps does): non-ASCII as \uXXXX, bytes
 * that are not UTF-8 as the lone surrogates \udc80-\udcff (Python's surrogateescape). */
static void jput_u(buf_t *b, unsigned cp)
{
    if (cp >= 0x10000) {
        cp -= 0x10000;
        buf_printf(b, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
    } else {
        buf_printf(b, "\\u%04x", cp);
    }
}
static void jput_str(buf_t *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    buf_reserve(b, n + 2);
    buf_addc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c < 0x80) {
            switch (c) {
            case '"': buf_adds(b, "\\\""); break;
            case '\\': buf_adds(b, "\\\\"); break;
            case '\n': buf_adds(b, "\\n"); break;
            case '\r': buf_adds(b, "\\r"); break;
            case '\t': buf_adds(b, "\\t"); break;
            case '\b': buf_adds(b, "\\b"); break;
            case '\f': buf_adds(b, "\\f"); break;
            default:
                if (c < 0x20)
                    buf_printf(b, "\\u%04x", c);
                else
                    buf_addc(b, (char)c);
            }
            ++i;
            continue;
        }
        unsigned cp = 0;
        size_t len = 0;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        int ok = len && i + len <= n;
        for (size_t k = 1; ok && k < len; ++k) {
            if ((u[i + k] & 0xC0) != 0x80)
                ok = 0;
            else
                cp = cp << 6 | (u[i + k] & 0x3F);
        }
        if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
                   (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))))
            ok = 0;
        if (ok) {
            jput_u(b, cp);
            i += len;
        } else {
            jput_u(b, 0xDC00 + c);
            ++i;
        }
    }
    buf_addc(b, '"');
}
static void jput_cstr(buf_t *b, const char *s) { jput_str(b, s, strlen(s)); }

/* A value as canonical JSON text: ids are echoed and compared through this. */
static void jput_value(buf_t *b, const jnode *v)
{
    switch (v->type) {
    case J_NULL: buf_adds(b, "null"); return;
    case J_FALSE: buf_adds(b, "false"); return;
    case J_TRUE: buf_adds(b, "true"); return;
    case J_NUM:
        if (v->num == floor(v->num) && fabs(v->num) < 9007199254740992.0)
            buf_printf(b, "%lld", (long long)v->num);
        else if (isfinite(v->num))
            buf_printf(b, "%.17g", v->num);
        else
            buf_adds(b, "null");
        return;
    case J_STR: jput_str(b, v->str, v->len); return;
    default: {
        int obj = v->type == J_OBJ;
        buf_addc(b, obj ? '{' : '[');
        for (const jnode *c = v->child; c; c = c->next) {
            if (c != v->child)
                buf_addc(b, ',');
            if (obj) {
                jput_str(b, c->key, c->klen);
                buf_addc(b, ':');
            }
            jput_value(b, c);
        }
        buf_addc(b, obj ? '}' : ']');
    }
    }
}

/* ---- the port -------------------------------------------------------------------------- */
static int port_fd = -1;
static buf_t out_msg; /* the message being built */

static void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Writes out_msg + '\n' to the port. The port is a blocking fd, as in the reference agent:
 * a host that stops reading stalls the agent instead of making it buffer without bound. */
static void send_msg(void)
{
    buf_addc(&out_msg, '\n');
    size_t off = 0;
    while (off < out_msg.n) {
        ssize_t w = write(port_fd, out_msg.p + off, out_msg.n - off);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && errno == EAGAIN) {
            msleep(1);
        } else {
            /* Host gone mid-message: the rest is dropped; the next hello resynchronises. */
            fprintf(stderr, "vivarium-agent: write to the port failed: %s\n", strerror(errno));
            break;
        }
    }
    out_msg.n = 0;
    if (out_msg.cap > (1u << 20)) /* don't keep a large exit message's buffer around */
        buf_free(&out_msg);
}

static void msg_begin(const char *rid, const char *type)
{
    out_msg.n = 0;
    buf_adds(&out_msg, "{\"id\":");
    buf_adds(&out_msg, rid);
    buf_adds(&out_msg, ",\"type\":\"");
    buf_adds(&out_msg, type);
    buf_addc(&out_msg, '"');
}
static void msg_key(const char *key)
{
    buf_adds(&out_msg, ",\"");
    buf_adds(&out_msg, key);
    buf_adds(&out_msg, "\":");
}
static void msg_end(void)
{
    buf_addc(&out_msg, '}');
    send_msg();
}

static void send_error(const char *rid, const char *message, int err)
{
    msg_begin(rid, "error");
    msg_key("message");
    jput_cstr(&out_msg, message);
    msg_key("errno");
    const char *name = err ? strerrorname_np(err) : NULL;
    jput_cstr(&out_msg, name ? name : "");
    msg_end();
}
/* An OSError-style error: "<strerror>: <path>". */
static void send_oserror(const char *rid, int err, const char *path)
{
    buf_t m = {0};
    buf_adds(&m, strerror(err));
    buf_adds(&m, ": ");
    buf_adds(&m, path ? path : "");
    buf_addc(&m, 0);
    send_error(rid, m.p, err);
    buf_free(&m);
}
static void send_ok(const char *rid, int ok)
{
    msg_begin(rid, "result");
    msg_key("ok");
    buf_adds(&out_msg, ok ? "true" : "false");
    msg_end();
}

/* ---- processes ------------------------------------------------------------------------- */
typedef struct wreq {
    char *data;
    size_t len, off;
    char *reply_rid; /* a `stdin` request answered when this chunk is in the pipe; or NULL */
    struct wreq *next;
} wreq;

enum { IN_NONE, IN_OPEN, IN_CLOSING, IN_BROKEN, IN_CLOSED };

typedef struct proc {
    char *rid;
    pid_t pid;
    int stream;
    int fds[3]; /* [0] stdin write end, [1] stdout, [2] stderr; -1 when closed */
    int in_state;
    wreq *wq, *wq_tail;
    buf_t out[3];
    int64_t deadline; /* 0: none */
    int timed_out, truncated;
    long long max_output;
    int exited, status;
    int64_t exited_at;
    int finished; /* freed at the end of the loop iteration */
    struct proc *next;
} proc;

static proc *procs;

static proc *find_proc(const char *rid)
{
    for (proc *p = procs; p; p = p->next)
        if (!p->finished && strcmp(p->rid, rid) == 0)
            return p;
    return NULL;
}

static void close_fd(proc *p, int which)
{
    if (p->fds[which] >= 0) {
        close(p->fds[which]);
        p->fds[which] = -1;
    }
}

/* Answers and drops every queued stdin chunk (ok=false: it never reached the child). */
static void drop_stdin_queue(proc *p)
{
    while (p->wq) {
        wreq *w = p->wq;
        p->wq = w->next;
        if (w->reply_rid)
            send_ok(w->reply_rid, 0);
        free(w->reply_rid);
        free(w->data);
        free(w);
    }
    p->wq_tail = NULL;
}

/* Writes what the child's stdin pipe takes now; answers `stdin` requests whose data is in. */
static void flush_stdin(proc *p)
{
    while (p->wq && p->fds[0] >= 0) {
        wreq *w = p->wq;
        while (w->off < w->len) {
            ssize_t n = write(p->fds[0], w->data + w->off, w->len - w->off);
            if (n > 0) {
                w->off += (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN)
                return; /* poll says when there is room */
            /* EPIPE: nobody reads it any more. Further stdin requests answer ok=false. */
            close_fd(p, 0);
            drop_stdin_queue(p);
            if (p->in_state != IN_CLOSING)
                p->in_state = IN_BROKEN;
            else
                p->in_state = IN_CLOSED;
            return;
        }
        p->wq = w->next;
        if (!p->wq)
            p->wq_tail = NULL;
        if (!p->wq && p->in_state == IN_CLOSING) {
            close_fd(p, 0);
            p->in_state = IN_CLOSED;
        }
        if (w->reply_rid)
            send_ok(w->reply_rid, 1);
        free(w->reply_rid);
        free(w->data);
        free(w);
    }
    if (!p->wq && p->in_state == IN_CLOSING) {
        close_fd(p, 0);
        p->in_state = IN_CLOSED;
    }
}

static void queue_stdin(proc *p, char *data, size_t len, const char *reply_rid)
{
    wreq *w = xrealloc(NULL, sizeof *w);
    w->data = data;
    w->len = len;
    w->off = 0;
    w->reply_rid = reply_rid ? xstrndup(reply_rid, strlen(reply_rid)) : NULL;
    w->next = NULL;
    if (p->wq_tail)
        p->wq_tail->next = w;
    else
        p->wq = w;
    p->wq_tail = w;
}

static void maybe_finish(proc *p)
{
    if (!p->exited || p->finished || p->fds[1] >= 0 || p->fds[2] >= 0)
        return;
    p->finished = 1;
    close_fd(p, 0);
    drop_stdin_queue(p);
    p->in_state = IN_CLOSED;
    msg_begin(p->rid, "exit");
    msg_key("code");
    if (WIFEXITED(p->status))
        buf_printf(&out_msg, "%d", WEXITSTATUS(p->status));
    else
        buf_adds(&out_msg, "null");
    msg_key("signal");
    if (WIFSIGNALED(p->status))
        buf_printf(&out_msg, "%d", WTERMSIG(p->status));
    else
        buf_adds(&out_msg, "null");
    msg_key("timed_out");
    buf_adds(&out_msg, p->timed_out ? "true" : "false");
    msg_key("truncated");
    buf_adds(&out_msg, p->truncated ? "true" : "false");
    if (!p->stream) {
        for (int which = 1; which <= 2; ++which) {
            msg_key(which == 1 ? "stdout" : "stderr");
            buf_addc(&out_msg, '"');
            b64_encode(&out_msg, (const unsigned char *)p->out[which].p, p->out[which].n);
            buf_addc(&out_msg, '"');
            buf_free(&p->out[which]);
        }
    }
    msg_end();
}

/* Reads once from a child's pipe; returns 0 when nothing more is there now. */
static int read_pipe(proc *p, int which)
{
    static char chunk[PIPE_CHUNK];
    if (p->fds[which] < 0)
        return 0;
    ssize_t n = read(p->fds[which], chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        close_fd(p, which);
        maybe_finish(p);
        return 0;
    }
    if (p->stream) {
        msg_begin(p->rid, "out");
        msg_key("fd");
        buf_printf(&out_msg, "%d", which);
        msg_key("data");
        buf_addc(&out_msg, '"');
        b64_encode(&out_msg, (const unsigned char *)chunk, (size_t)n);
        buf_addc(&out_msg, '"');
        msg_end();
    } else {
        buf_t *t = &p->out[which];
        long long room = p->max_output - (long long)t->n;
        size_t take = (size_t)n;
        if (room < (long long)n) {
            p->truncated = 1;
            take = room > 0 ? (size_t)room : 0;
        }
        buf_add(t, chunk, take);
    }
    return 1;
}

static void kill_group(proc *p, int sig)
{
    if (kill(-p->pid, sig) < 0)
        kill(p->pid, sig);
}

static void reap(void)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (proc *p = procs; p; p = p->next) {
            if (p->pid == pid && !p->exited) {
                p->exited = 1;
                p->status = status;
                p->exited_at = now_ms();
                /* Bounded: a background process that keeps writing is cut off by the 50 ms
                 * rule in check_deadlines instead of holding the loop here. */
                for (int which = 1; which <= 2; ++which)
                    for (int k = 0; k < 256 && read_pipe(p, which); ++k) {
                    }
                maybe_finish(p);
                break;
            }
        }
    }
}

static void check_deadlines(void)
{
    int64_t now = now_ms();
    for (proc *p = procs; p; p = p->next) {
        if (p->finished)
            continue;
        if (!p->exited && p->deadline && now >= p->deadline) {
            p->timed_out = 1;
            p->deadline = 0;
            kill_group(p, SIGKILL);
        }
        if (p->exited && now >= p->exited_at + 50) {
            /* The process is gone but something it started still holds its pipes. */
            close_fd(p, 1);
            close_fd(p, 2);
            maybe_finish(p);
        }
    }
}

static void free_finished(void)
{
    proc **pp = &procs;
    while (*pp) {
        proc *p = *pp;
        if (!p->finished) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        for (int i = 0; i < 3; ++i) {
            if (p->fds[i] >= 0)
                close(p->fds[i]);
            buf_free(&p->out[i]);
        }
        drop_stdin_queue(p);
        free(p->rid);
        free(p);
    }
}

/* ---- request helpers ------------------------------------------------------------------- */
/* A string field usable as a C string (no embedded NUL); NULL (and an error sent) if not. */
static const char *want_cstr(const char *rid, const jnode *req, const char *key, int required)
{
    const jnode *v = jget(req, key);
    if (!v || v->type == J_NULL) {
        if (required) {
            char m[96];
            snprintf(m, sizeof m, "KeyError: '%s'", key);
            send_error(rid, m, 0);
        }
        return NULL;
    }
    if (v->type != J_STR || strlen(v->str) != v->len) {
        char m[96];
        snprintf(m, sizeof m, "%s must be a string without NUL bytes", key);
        send_error(rid, m, 0);
        return NULL;
    }
    return v->str;
}

/* A numeric field: `req.get(key) or dflt`. Returns -1 (error sent) if it is not a number. */
static int want_num(const char *rid, const jnode *req, const char *key, double dflt, double *out)
{
    const jnode *v = jget(req, key);
    if (!jtruthy(v)) {
        *out = dflt;
        return 0;
    }
    if (v->type == J_TRUE) {
        *out = 1;
        return 0;
    }
    if (v->type != J_NUM || !isfinite(v->num)) {
        char m[96];
        snprintf(m, sizeof m, "%s must be a number", key);
        send_error(rid, m, 0);
        return -1;
    }
    *out = v->num;
    return 0;
}

static long long clamp_ll(double d)
{
    if (d >= 9.2e18) return LLONG_MAX;
    if (d <= -9.2e18) return LLONG_MIN;
    return (long long)d;
}

/* Decodes a base64 string field in place; len -1 and an error sent when invalid. */
static char *want_b64(const char *rid, const jnode *req, const char *key, long long *len)
{
    jnode *v = jget(req, key);
    *len = 0;
    if (!jtruthy(v))
        return NULL;
    if (v->type != J_STR) {
        send_error(rid, "binascii.Error: base64 data must be a string", 0);
        *len = -1;
        return NULL;
    }
    const char *why = "";
    long long n = b64_decode_inplace(v->str, v->len, &why);
    if (n < 0) {
        char m[96];
        snprintf(m, sizeof m, "binascii.Error: %s", why);
        send_error(rid, m, 0);
        *len = -1;
        return NULL;
    }
    *len = n;
    return v->str;
}

/* ---- ops: processes -------------------------------------------------------------------- */
/* Python's subprocess looks a bare program name up in the child's PATH (os.get_exec_path). */
static int resolve_program(const char *prog, char *const *envp, char *out, size_t outsz)
{
    if (strchr(prog, '/')) {
        if (strlen(prog) >= outsz)
            return ENAMETOOLONG;
        strcpy(out, prog);
        return 0;
    }
    const char *path = NULL;
    for (char *const *e = envp; e && *e; ++e)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    if (!path)
        path = "/bin:/usr/bin";
    int err = ENOENT;
    while (*path) {
        const char *end = strchrnul(path, ':');
        size_t dl = (size_t)(end - path);
        if (dl + 1 + strlen(prog) < outsz) {
            if (dl == 0)
                snprintf(out, outsz, "%s", prog);
            else
                snprintf(out, outsz, "%.*s/%s", (int)dl, path, prog);
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(out, X_OK) == 0)
                    return 0;
                err = EACCES;
            }
        }
        path = *end ? end + 1 : end;
    }
    return err;
}

static void op_exec(const char *rid, jnode *req)
{
    jnode *av = jget(req, "argv");
    if (!jtruthy(av)) {
        send_error(rid, "argv is empty", 0);
        return;
    }
    if (av->type != J_ARR) {
        send_error(rid, "argv must be a list of strings", 0);
        return;
    }
    size_t argc = 0;
    for (jnode *c = av->child; c; c = c->next) {
        if (c->type != J_STR || strlen(c->str) != c->len) {
            send_error(rid, "argv must be a list of strings without NUL bytes", 0);
            return;
        }
        ++argc;
    }
    /* Environment: inherited, or cleared, plus `env` (later keys win, as dict.update). */
    jnode *envj = jget(req, "env");
    int clear_env = jtruthy(jget(req, "clear_env"));
    int custom_env = (envj && envj->type != J_NULL) || clear_env;
    if (envj && envj->type != J_NULL && envj->type != J_OBJ) {
        send_error(rid, "env must be an object", 0);
        return;
    }
    const char *cwd = NULL;
    jnode *cwdj = jget(req, "cwd");
    if (jtruthy(cwdj) && !(cwd = want_cstr(rid, req, "cwd", 0)))
        return;
    if (!cwd)
        cwd = "/workspace";
    int keep_stdin = jtruthy(jget(req, "keep_stdin"));
    int stream = jtruthy(jget(req, "stream"));
    long long stdin_len;
    char *stdin_data = want_b64(rid, req, "stdin", &stdin_len);
    if (stdin_len < 0)
        return;
    double timeout_ms, max_output;
    if (want_num(rid, req, "timeout_ms", 0, &timeout_ms) < 0 ||
        want_num(rid, req, "max_output", (double)DEFAULT_MAX_OUTPUT, &max_output) < 0)
        return;

    char **argv = xrealloc(NULL, (argc + 1) * sizeof *argv);
    size_t i = 0;
    for (jnode *c = av->child; c; c = c->next)
        argv[i++] = c->str;
    argv[argc] = NULL;

    char **envp = environ;
    buf_t envstore = {0};
    char **envv = NULL;
    if (custom_env) {
        size_t base = 0, extra = 0;
        if (!clear_env)
            for (char **e = environ; *e; ++e)
                ++base;
        if (envj && envj->type == J_OBJ)
            for (jnode *c = envj->child; c; c = c->next)
                ++extra;
        envv = xrealloc(NULL, (base + extra + 1) * sizeof *envv);
        size_t n = 0;
        if (!clear_env)
            for (char **e = environ; *e; ++e)
                envv[n++] = xstrndup(*e, strlen(*e));
        for (jnode *c = envj && envj->type == J_OBJ ? envj->child : NULL; c; c = c->next) {
            if (strlen(c->key) != c->klen || memchr(c->key, '=', c->klen) || c->klen == 0) {
                send_error(rid, "ValueError: illegal environment variable name", 0);
                goto out;
            }
            envstore.n = 0;
            buf_add(&envstore, c->key, c->klen);
            buf_addc(&envstore, '=');
            if (c->type == J_STR) {
                if (strlen(c->str) != c->len) {
                    send_error(rid, "ValueError: embedded null byte", 0);
                    goto out;
                }
                buf_add(&envstore, c->str, c->len);
            } else if (c->type == J_NUM) {
                jput_value(&envstore, c);
            } else if (c->type == J_TRUE || c->type == J_FALSE || c->type == J_NULL) {
                buf_adds(&envstore, c->type == J_TRUE ? "True" : c->type == J_FALSE ? "False" : "None");
            } else {
                send_error(rid, "env values must be strings", 0);
                goto out;
            }
            size_t j = 0;
            for (; j < n; ++j)
                if (strncmp(envv[j], c->key, c->klen) == 0 && envv[j][c->klen] == '=')
                    break;
            char *entry = xstrndup(envstore.p, envstore.n);
            if (j < n) {
                free(envv[j]);
                envv[j] = entry;
            } else {
                envv[n++] = entry;
            }
        }
        envv[n] = NULL;
        envp = envv;
    }

    {
        char prog[PATH_MAX];
        int err = resolve_program(argv[0], envp, prog, sizeof prog);
        int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
        int want_in = keep_stdin || stdin_len > 0;
        pid_t pid = -1;
        if (!err && ((want_in && pipe2(pin, O_CLOEXEC) < 0) || pipe2(pout, O_CLOEXEC) < 0 ||
                     pipe2(perr, O_CLOEXEC) < 0))
            err = errno;
        if (!err) {
            posix_spawn_file_actions_t fa;
            posix_spawnattr_t at;
            posix_spawn_file_actions_init(&fa);
            posix_spawnattr_init(&at);
            if (want_in)
                posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
            else
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
            posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
            posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
            posix_spawn_file_actions_addchdir_np(&fa, cwd);
            sigset_t none, def;
            sigemptyset(&none);
            sigemptyset(&def);
            sigaddset(&def, SIGPIPE);
            sigaddset(&def, SIGCHLD);
            posix_spawnattr_setsigmask(&at, &none);
            posix_spawnattr_setsigdefault(&at, &def);
            posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
            err = posix_spawn(&pid, prog, &fa, &at, argv, envp);
            posix_spawn_file_actions_destroy(&fa);
            posix_spawnattr_destroy(&at);
        }
        if (pin[0] >= 0) close(pin[0]);
        if (pout[1] >= 0) close(pout[1]);
        if (perr[1] >= 0) close(perr[1]);
        if (err) {
            if (pin[1] >= 0) close(pin[1]);
            if (pout[0] >= 0) close(pout[0]);
            if (perr[0] >= 0) close(perr[0]);
            char m[512];
            snprintf(m, sizeof m, "cannot start %.300s: %s", argv[0], strerror(err));
            send_error(rid, m, err);
            goto out;
        }
        proc *p = xrealloc(NULL, sizeof *p);
        memset(p, 0, sizeof *p);
        p->rid = xstrndup(rid, strlen(rid));
        p->pid = pid;
        p->stream = stream;
        p->fds[0] = pin[1];
        p->fds[1] = pout[0];
        p->fds[2] = perr[0];
        for (int k = 0; k < 3; ++k)
            if (p->fds[k] >= 0)
                fcntl(p->fds[k], F_SETFL, fcntl(p->fds[k], F_GETFL) | O_NONBLOCK);
        p->in_state = want_in ? IN_OPEN : IN_NONE;
        if (timeout_ms > 1e12)
            timeout_ms = 1e12; /* ~30 years */
        p->deadline = timeout_ms > 0 ? now_ms() + (int64_t)timeout_ms + (timeout_ms > (double)(int64_t)timeout_ms) : 0;
        p->max_output = clamp_ll(max_output);
        /* A request reusing the id of a running one takes the id over (as a dict would). */
        for (proc *o = procs; o; o = o->next)
            if (!o->finished && strcmp(o->rid, rid) == 0)
                o->rid[0] = 0; /* never matches a canonical id again */
        p->next = procs;
        procs = p;
        if (stdin_len > 0)
            queue_stdin(p, xstrndup(stdin_data, (size_t)stdin_len), (size_t)stdin_len, NULL);
        if (!keep_stdin && want_in)
            p->in_state = IN_CLOSING;
        flush_stdin(p);
        if (keep_stdin) {
            msg_begin(rid, "started");
            msg_key("pid");
            buf_printf(&out_msg, "%d", (int)pid);
            msg_end();
        }
    }
out:
    if (envv) {
        for (char **e = envv; *e; ++e)
            free(*e);
        free(envv);
    }
    buf_free(&envstore);
    free(argv);
}

static proc *target_proc(const jnode *req)
{
    const jnode *t = jget(req, "target");
    if (!t)
        return NULL;
    buf_t b = {0};
    jput_value(&b, t);
    buf_addc(&b, 0);
    proc *p = find_proc(b.p);
    buf_free(&b);
    return p;
}

static void op_stdin(const char *rid, jnode *req)
{
    proc *p = target_proc(req);
    if (!p || (p->in_state != IN_OPEN && p->in_state != IN_BROKEN)) {
        send_error(rid, "no running process with open stdin for that id", 0);
        return;
    }
    long long len;
    char *data = want_b64(rid, req, "data", &len);
    if (len < 0)
        return;
    int eof = jtruthy(jget(req, "eof"));
    if (p->in_state == IN_BROKEN) {
        if (eof)
            p->in_state = IN_CLOSED;
        send_ok(rid, len == 0);
        return;
    }
    if (eof)
        p->in_state = IN_CLOSING;
    /* Answered once this chunk (and everything before it) is in the pipe. */
    queue_stdin(p, len > 0 ? xstrndup(data, (size_t)len) : NULL, (size_t)len, rid);
    flush_stdin(p);
}

static void op_kill(const char *rid, jnode *req)
{
    proc *p = target_proc(req);
    if (!p) {
        send_error(rid, "no running process for that id", 0);
        return;
    }
    double sig;
    if (want_num(rid, req, "signal", SIGKILL, &sig) < 0)
        return;
    if (sig < 1 || sig > 64) {
        send_error(rid, "ValueError: signal number out of range", 0);
        return;
    }
    kill_group(p, (int)sig);
    send_ok(rid, 1);
}

/* ---- ops: files ------------------------------------------------------------------------ */
static void put_entry(buf_t *b, const char *path, const char *name, const struct stat *s)
{
    const char *kind = S_ISDIR(s->st_mode) ? "dir" : S_ISREG(s->st_mode) ? "file"
                       : S_ISLNK(s->st_mode) ? "symlink" : "other";
    buf_adds(b, "{\"name\":");
    jput_cstr(b, name);
    buf_adds(b, ",\"path\":");
    jput_cstr(b, path);
    buf_adds(b, ",\"type\":\"");
    buf_adds(b, kind);
    buf_printf(b, "\",\"size\":%lld,\"mode\":%u,\"mtime\":", (long long)s->st_size, (unsigned)(s->st_mode & 07777));
    double mt = (double)s->st_mtim.tv_sec + (double)s->st_mtim.tv_nsec / 1e9;
    buf_printf(b, "%.17g", mt);
    buf_addc(b, '}');
}

static void op_read(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    double off_d, lim_d;
    if (want_num(rid, req, "offset", 0, &off_d) < 0 || want_num(rid, req, "limit", (double)DEFAULT_MAX_OUTPUT, &lim_d) < 0)
        return;
    long long offset = clamp_ll(off_d), limit = clamp_ll(lim_d);
    if (offset < 0) {
        send_error(rid, "ValueError: negative seek value", 0);
        return;
    }
    if (limit < 0 || limit > MAX_READ)
        limit = MAX_READ; /* Python reads everything for a negative limit; bounded here */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    struct stat st;
    int bad = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (bad) {
        int e = bad;
        close(fd);
        send_oserror(rid, e, path);
        return;
    }
    buf_t data = {0};
    size_t want = (size_t)limit;
    if (S_ISREG(st.st_mode) && st.st_size > offset && (long long)want > st.st_size - offset)
        want = (size_t)(st.st_size - offset); /* a first guess: the file may still grow */
    while ((long long)data.n < limit) {
        size_t chunk = want > data.n ? want - data.n : 65536;
        if ((long long)(data.n + chunk) > limit)
            chunk = (size_t)(limit - (long long)data.n);
        buf_reserve(&data, chunk);
        ssize_t n = pread(fd, data.p + data.n, chunk, (off_t)(offset + (long long)data.n));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            buf_free(&data);
            send_oserror(rid, e, path);
            return;
        }
        if (n == 0)
            break;
        data.n += (size_t)n;
    }
    close(fd);
    msg_begin(rid, "result");
    msg_key("data");
    buf_addc(&out_msg, '"');
    b64_encode(&out_msg, (const unsigned char *)data.p, data.n);
    buf_addc(&out_msg, '"');
    msg_key("size");
    buf_printf(&out_msg, "%lld", (long long)st.st_size);
    msg_key("eof");
    buf_adds(&out_msg, offset + (long long)data.n >= (long long)st.st_size ? "true" : "false");
    buf_free(&data);
    msg_end();
}

/* os.makedirs(path, exist_ok=True); on failure errno is set and `failed` names the path. */
static int makedirs(const char *path, char *failed, size_t failsz)
{
    size_t n = strlen(path);
    if (n == 0 || n >= PATH_MAX) {
        errno = n ? ENAMETOOLONG : ENOENT;
        snprintf(failed, failsz, "%s", path);
        return -1;
    }
    char tmp[PATH_MAX];
    memcpy(tmp, path, n + 1);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = 0;
    for (char *p = tmp + 1;; ++p) {
        int last = *p == 0;
        if (*p == '/' || last) {
            char save = *p;
            *p = 0;
            if (mkdir(tmp, 0777) < 0 && errno != EEXIST) {
                snprintf(failed, failsz, "%s", tmp);
                return -1;
            }
            if (last) {
                struct stat st;
                if (stat(tmp, &st) < 0 || !S_ISDIR(st.st_mode)) {
                    errno = EEXIST; /* Python: FileExistsError */
                    snprintf(failed, failsz, "%s", tmp);
                    return -1;
                }
                return 0;
            }
            *p = save;
            while (p[1] == '/')
                ++p;
        }
    }
}

static void op_write(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    long long len;
    char *data = want_b64(rid, req, "data", &len);
    if (len < 0)
        return;
    jnode *mk = jget(req, "mkdirs");
    double mode_d;
    if (want_num(rid, req, "mode", 0644, &mode_d) < 0)
        return;
    char failed[PATH_MAX];
    if (!mk || jtruthy(mk)) {
        const char *slash = strrchr(path, '/');
        if (slash && slash != path) {
            char parent[PATH_MAX];
            size_t pl = (size_t)(slash - path);
            if (pl >= sizeof parent) {
                send_oserror(rid, ENAMETOOLONG, path);
                return;
            }
            memcpy(parent, path, pl);
            parent[pl] = 0;
            if (makedirs(parent, failed, sizeof failed) < 0) {
                send_oserror(rid, errno, failed);
                return;
            }
        }
    }
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
                (jtruthy(jget(req, "append")) ? O_APPEND : O_TRUNC);
    int fd = open(path, flags, (mode_t)((long long)mode_d & 07777));
    if (fd < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    size_t off = 0;
    while (off < (size_t)len) {
        ssize_t n = write(fd, data + off, (size_t)len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            send_oserror(rid, e, path);
            return;
        }
        off += (size_t)n;
    }
    if (close(fd) < 0 && errno != EINTR) {
        send_oserror(rid, errno, path);
        return;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    msg_begin(rid, "result");
    msg_key("size");
    buf_printf(&out_msg, "%lld", (long long)st.st_size);
    msg_end();
}

static void op_stat(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    struct stat st;
    if (lstat(path, &st) < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!*name)
        name = path;
    msg_begin(rid, "result");
    msg_key("entry");
    put_entry(&out_msg, path, name, &st);
    msg_end();
}

typedef struct {
    char *name;
    struct stat st;
} dent;
static int dent_cmp(const void *a, const void *b) { return strcmp(((const dent *)a)->name, ((const dent *)b)->name); }

static void op_list(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    DIR *d = opendir(path);
    if (!d) {
        send_oserror(rid, errno, path);
        return;
    }
    dent *ents = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            ents = xrealloc(ents, cap * sizeof *ents);
        }
        ents[n].name = xstrndup(e->d_name, strlen(e->d_name));
        ents[n].st = st;
        ++n;
    }
    closedir(d);
    if (n)
        qsort(ents, n, sizeof *ents, dent_cmp);
    size_t pl = strlen(path);
    int sep = pl > 0 && path[pl - 1] != '/';
    buf_t full = {0};
    msg_begin(rid, "result");
    msg_key("entries");
    buf_addc(&out_msg, '[');
    for (size_t i = 0; i < n; ++i) {
        if (i)
            buf_addc(&out_msg, ',');
        full.n = 0;
        buf_add(&full, path, pl);
        if (sep)
            buf_addc(&full, '/');
        buf_adds(&full, ents[i].name);
        buf_addc(&full, 0);
        put_entry(&out_msg, full.p, ents[i].name, &ents[i].st);
        free(ents[i].name);
    }
    buf_addc(&out_msg, ']');
    free(ents);
    buf_free(&full);
    msg_end();
}

static void op_mkdir(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    char failed[PATH_MAX];
    if (makedirs(path, failed, sizeof failed) < 0) {
        send_oserror(rid, errno, failed);
        return;
    }
    send_ok(rid, 1);
}

static void op_reseed(const char *rid, jnode *req)
{
    long long len = 0;
    char *data = want_b64(rid, req, "data", &len);
    if (!data && len == 0)
        send_error(rid, "reseed wants `data`", 0);
    if (!data)
        return;
    if (len < 32 || len > 512) {
        send_error(rid, "reseed wants 32 to 512 bytes", 0);
        return;
    }
    struct rand_pool_info *info = xrealloc(NULL, sizeof *info + (size_t)len);
    info->entropy_count = (int)(len * 8);
    info->buf_size = (int)len;
    memcpy(info->buf, data, (size_t)len);
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    int err = 0;
    if (fd < 0 || ioctl(fd, RNDADDENTROPY, info) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
        err = errno;
    if (fd >= 0)
        close(fd);
    memset(info->buf, 0, (size_t)len);
    free(info);
    if (err) {
        send_oserror(rid, err, "/dev/urandom");
        return;
    }
    send_ok(rid, 1);
}

static int rm_err;
static char rm_path[PATH_MAX];
static int rm_one(const char *fpath, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    int r;
    if (flag == FTW_DNR || flag == FTW_NS) {
        errno = flag == FTW_DNR ? EACCES : ENOENT;
        r = -1;
    } else {
        r = flag == FTW_DP ? rmdir(fpath) : unlink(fpath);
    }
    if (r < 0) {
        rm_err = errno;
        snprintf(rm_path, sizeof rm_path, "%s", fpath);
        return 1; /* stop the walk */
    }
    return 0;
}

static void op_remove(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rm_err = 0;
        int r = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
        if (r != 0) {
            if (rm_err)
                send_oserror(rid, rm_err, rm_path);
            else
                send_oserror(rid, errno, path);
            return;
        }
    } else if (unlink(path) < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    send_ok(rid, 1);
}

/* ---- dispatch -------------------------------------------------------------------------- */
static void handle_line(char *line, size_t n)
{
    size_t k = 0;
    while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
        ++k;
    if (k == n)
        return;
    jparser ps = {0};
    jnode *req = jparse(&ps, line, n);
    if (!req || req->type != J_OBJ) {
        send_error("-1", "malformed request line", 0);
        jfree(&ps);
        return;
    }
    buf_t rid = {0};
    jnode *idv = jget(req, "id");
    if (idv)
        jput_value(&rid, idv);
    else
        buf_adds(&rid, "-1");
    buf_addc(&rid, 0);
    jnode *opv = jget(req, "op");
    const char *op = opv && opv->type == J_STR ? opv->str : "";
    static const struct { const char *name; void (*fn)(const char *, jnode *); } ops[] = {
        {"exec", op_exec}, {"stdin", op_stdin}, {"kill", op_kill}, {"read", op_read},
        {"write", op_write}, {"list", op_list}, {"stat", op_stat}, {"mkdir", op_mkdir},
        {"remove", op_remove}, {"reseed", op_reseed}};
    int done = 0;
    if (opv && opv->type == J_STR && strcmp(op, "hello") == 0 && strlen(op) == opv->len) {
        msg_begin(rid.p, "ready");
        msg_key("version");
        buf_printf(&out_msg, "%d", VERSION);
        msg_end();
        done = 1;
    }
    for (size_t i = 0; !done && opv && opv->type == J_STR && i < sizeof ops / sizeof *ops; ++i) {
        if (strcmp(op, ops[i].name) == 0 && strlen(op) == opv->len) {
            ops[i].fn(rid.p, req);
            done = 1;
        }
    }
    if (!done) {
        buf_t m = {0};
        buf_adds(&m, "unknown op ");
        if (opv)
            jput_value(&m, opv);
        else
            buf_adds(&m, "None");
        buf_addc(&m, 0);
        send_error(rid.p, m.p, 0);
        buf_free(&m);
    }
    buf_free(&rid);
    jfree(&ps);
}

static buf_t inbuf;
static int discarding; /* a line over MAX_LINE is being skipped */
static int64_t port_paused_until;

static void read_port(void)
{
    buf_reserve(&inbuf, 1 << 20);
    ssize_t n = read(port_fd, inbuf.p + inbuf.n, inbuf.cap - inbuf.n);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        /* The host side is not connected: virtio-serial reports EOF/HUP. Look again soon,
         * while still serving the children. */
        port_paused_until = now_ms() + 50;
        return;
    }
    size_t start = inbuf.n;
    inbuf.n += (size_t)n;
    size_t pos = 0;
    for (;;) {
        char *nl = memchr(inbuf.p + start, '\n', inbuf.n - start);
        if (!nl)
            break;
        size_t end = (size_t)(nl - inbuf.p);
        if (discarding) {
            discarding = 0;
            send_error("-1", "request line too long", 0);
        } else {
            *nl = 0;
            handle_line(inbuf.p + pos, end - pos);
        }
        pos = end + 1;
        start = pos;
    }
    if (pos) {
        memmove(inbuf.p, inbuf.p + pos, inbuf.n - pos);
        inbuf.n -= pos;
    }
    if (inbuf.n > MAX_LINE) {
        discarding = 1;
        inbuf.n = 0;
    }
    if (discarding)
        inbuf.n = 0;
    if (inbuf.n == 0 && inbuf.cap > (4u << 20)) /* give a large request's memory back */
        buf_free(&inbuf);
}

static char *find_port(void)
{
    static char dev[PATH_MAX];
    for (int tries = 0; tries < 2500; ++tries) {
        DIR *d = opendir("/sys/class/virtio-ports");
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                char p[PATH_MAX], name[64] = {0};
                snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                    continue;
                ssize_t n = read(fd, name, sizeof name - 1);
                close(fd);
                while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == ' '))
                    name[--n] = 0;
                if (n > 0 && strcmp(name, PORT_NAME) == 0) {
                    snprintf(dev, sizeof dev, "/dev/%s", e->d_name);
                    closedir(d);
                    return dev;
                }
            }
            closedir(d);
        }
        msleep(2);
    }
    fprintf(stderr, "vivarium-agent: no virtio port named %s\n", PORT_NAME);
    exit(1);
}

int main(int argc, char **argv)
{
    /* fds 0-2 must be taken, so that no pipe lands there and gets clobbered by a dup2. */
    for (;;) {
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0 || fd > 2) {
            if (fd > 2)
                close(fd);
            break;
        }
    }
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
    setenv("HOME", "/root", 0);
    setenv("LANG", "C.UTF-8", 0);
    signal(SIGPIPE, SIG_IGN); /* children get it back (POSIX_SPAWN_SETSIGDEF) */

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        perror("vivarium-agent: signalfd");
        return 1;
    }

    const char *path = argc > 1 ? argv[1] : find_port();
    port_fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (port_fd < 0) {
        fprintf(stderr, "vivarium-agent: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }

    msg_begin("0", "ready");
    msg_key("version");
    buf_printf(&out_msg, "%d", VERSION);
    msg_end();

    struct pollfd *pfds = NULL;
    struct { proc *p; int which; } *tags = NULL;
    size_t pcap = 0;
    for (;;) {
        size_t nproc = 0;
        for (proc *p = procs; p; p = p->next)
            ++nproc;
        if (pcap < 2 + 3 * nproc) {
            pcap = 2 + 3 * nproc + 16;
            pfds = xrealloc(pfds, pcap * sizeof *pfds);
            tags = xrealloc(tags, pcap * sizeof *tags);
        }
        size_t n = 0;
        int64_t now = now_ms();
        int64_t wake = -1;
        if (port_paused_until && now >= port_paused_until)
            port_paused_until = 0;
        if (!port_paused_until) {
            pfds[n] = (struct pollfd){port_fd, POLLIN, 0};
            tags[n].p = NULL;
            tags[n++].which = -1;
        } else {
            wake = port_paused_until;
        }
        pfds[n] = (struct pollfd){sfd, POLLIN, 0};
        tags[n].p = NULL;
        tags[n++].which = -2;
        for (proc *p = procs; p; p = p->next) {
            for (int which = 0; which < 3; ++which) {
                if (p->fds[which] < 0 || (which == 0 && !p->wq))
                    continue;
                pfds[n] = (struct pollfd){p->fds[which], which == 0 ? POLLOUT : POLLIN, 0};
                tags[n].p = p;
                tags[n++].which = which;
            }
            int64_t t = 0;
            if (!p->exited && p->deadline)
                t = p->deadline;
            else if (p->exited)
                t = p->exited_at + 50;
            if (t && (wake < 0 || t < wake))
                wake = t;
        }
        int timeout = -1;
        if (wake >= 0)
            timeout = wake > now ? (int)(wake - now > INT_MAX ? INT_MAX : wake - now) : 0;
        int r = poll(pfds, n, timeout);
        if (r < 0 && errno != EINTR) {
            perror("vivarium-agent: poll");
            msleep(10);
        }
        for (size_t i = 0; r > 0 && i < n; ++i) {
            if (!pfds[i].revents)
                continue;
            proc *p = tags[i].p;
            int which = tags[i].which;
            if (which == -1) {
                read_port();
            } else if (which == -2) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) > 0) {
                }
            } else if (!p->finished && p->fds[which] == pfds[i].fd) {
                if (which == 0)
                    flush_stdin(p);
                else
                    read_pipe(p, which);
            }
        }
        reap();
        check_deadlines();
        free_finished();
    }
}
