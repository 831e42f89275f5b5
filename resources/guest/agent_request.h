/* Vivarium guest agent: reading a request's fields the way the reference (Python) agent did;
 * a field of the wrong kind is answered with an error reply. */
#ifndef VIVARIUM_AGENT_REQUEST_H
#define VIVARIUM_AGENT_REQUEST_H

#include "agent_json.h"

#define DEFAULT_MAX_OUTPUT (8LL * 1024 * 1024)

const char *want_cstr(const char *rid, const jnode *req, const char *key, int required);
int want_num(const char *rid, const jnode *req, const char *key, double dflt, double *out);
long long clamp_ll(double d);
char *want_b64(const char *rid, const jnode *req, const char *key, long long *len);

#endif
