/* Vivarium guest agent: JSON parse (in place) and emit. */
#define _GNU_SOURCE
#include "agent_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON: parse (in place) ------------------------------------------------------------ */

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
void jfree(jparser *ps)
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
jnode *jparse(jparser *ps, char *s, size_t n)
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

jnode *jget(const jnode *obj, const char *key)
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
int jtruthy(const jnode *v)
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
void jput_str(buf_t *b, const char *s, size_t n)
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
void jput_cstr(buf_t *b, const char *s) { jput_str(b, s, strlen(s)); }

void jput_value(buf_t *b, const jnode *v)
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
