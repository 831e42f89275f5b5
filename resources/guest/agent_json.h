/* Vivarium guest agent: JSON. The parser decodes one line in place into a tree of nodes held
 * in a per-parse arena; the emitter writes canonical, ASCII-only text (as Python's
 * json.dumps does). Depends only on agent_buf. */
#ifndef VIVARIUM_AGENT_JSON_H
#define VIVARIUM_AGENT_JSON_H

#include "agent_buf.h"

#define MAX_DEPTH 64         /* arrays/objects nested deeper fail to parse */
#define JCHUNK 256
#define MAX_NODES (1u << 20) /* a request has a few dozen values; argv/env at most thousands */

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

/* {0} before the first jparse; jfree releases every node of every parse with it. */
typedef struct {
    char *p, *end;
    int depth;
    /* node arena */
    jnode **chunks;
    size_t nchunks, used;
} jparser;

/* Parses s[0..n) (modified in place: strings point into it) as exactly one JSON value with
 * optional surrounding white space; NULL when it is not. */
jnode *jparse(jparser *ps, char *s, size_t n);
void jfree(jparser *ps);
/* The last member named `key` of an object (Python's dict keeps the last duplicate). */
jnode *jget(const jnode *obj, const char *key);
/* Python truthiness, as the reference agent's `req.get(x) or default` reads fields. */
int jtruthy(const jnode *v);

void jput_str(buf_t *b, const char *s, size_t n);
void jput_cstr(buf_t *b, const char *s);
/* A value as canonical JSON text: ids are echoed and compared through this. */
void jput_value(buf_t *b, const jnode *v);

#endif
