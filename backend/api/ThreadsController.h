#pragma once

namespace viv {
class ApiServer;
class SessionService;
class ThreadService;
class EventLog;
class SseHub;
// /v1/sessions/{id}/threads: list, retrieve, archive, the thread's events and its SSE stream
// (docs/DESIGN.md "Threads"). No behaviour lives here.
void registerThreadRoutes(ApiServer &server, SessionService &sessions, ThreadService &threads, EventLog &log, SseHub &hub);
} // namespace viv
