/* Vivarium guest agent: request fields. */
#define _GNU_SOURCE
#include "agent_request.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent_port.h"

/* ---- request helpers ------------------------------------------------------------------- */
/* A string field usable as a C string (no embedded NUL); NULL (and an error sent) if not. */
const char *want_cstr(const char *rid, const jnode *req, const char *key, int required)
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
int want_num(const char *rid, const jnode *req, const char *key, double dflt, double *out)
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

long long clamp_ll(double d)
{
    if (d >= 9.2e18) return LLONG_MAX;
    if (d <= -9.2e18) return LLONG_MIN;
    return (long long)d;
}

/* Decodes a base64 string field in place; len -1 and an error sent when invalid. */
char *want_b64(const char *rid, const jnode *req, const char *key, long long *len)
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
