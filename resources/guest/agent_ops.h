/* Vivarium guest agent: the request ops (vivarium-agent.c documents their fields). Each
 * answers its request `rid` (the canonical JSON of its id) on the port. */
#ifndef VIVARIUM_AGENT_OPS_H
#define VIVARIUM_AGENT_OPS_H

#include "agent_json.h"

/* agent_exec.c */
void op_exec(const char *rid, jnode *req);
void op_stdin(const char *rid, jnode *req);
void op_kill(const char *rid, jnode *req);

/* agent_files.c */
void op_read(const char *rid, jnode *req);
void op_write(const char *rid, jnode *req);
void op_list(const char *rid, jnode *req);
void op_stat(const char *rid, jnode *req);
void op_mkdir(const char *rid, jnode *req);
void op_remove(const char *rid, jnode *req);
void op_reseed(const char *rid, jnode *req);

#endif
