/* Vivarium guest agent: the virtio-serial port and its framing (one JSON message per line),
 * and the replies every op sends through it. */
#ifndef VIVARIUM_AGENT_PORT_H
#define VIVARIUM_AGENT_PORT_H

#include <stdint.h>

#include "agent_buf.h"

#define PORT_NAME "vivarium.agent"
#define MAX_LINE (96u * 1024 * 1024) /* the host's largest request: a 32 MiB file, base64 */

extern int port_fd;
extern buf_t out_msg;              /* the message being built: msg_begin … msg_end */
extern int64_t port_paused_until;  /* host not connected: poll the port again at this time */

int64_t now_ms(void); /* CLOCK_MONOTONIC */
void msleep(int ms);

/* {"id":<rid>,"type":"<type>" … then msg_key + a value per field; msg_end sends it. */
void msg_begin(const char *rid, const char *type);
void msg_key(const char *key);
void msg_end(void);

void send_error(const char *rid, const char *message, int err);
/* An OSError-style error: "<strerror>: <path>". */
void send_oserror(const char *rid, int err, const char *path);
void send_ok(const char *rid, int ok);

/* Reads what the port has and calls on_line for each complete request line (NUL-terminated
 * in place, n bytes without the newline); over-long lines are answered with an error. */
void read_port(void (*on_line)(char *line, size_t n));
/* /dev/<port> of the virtio port named PORT_NAME; exits when there is none. */
char *find_port(void);

#endif
