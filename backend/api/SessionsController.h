#pragma once

namespace viv {
class ApiServer;
class SessionService;
class EventLog;
class SseHub;
// /v1/sessions, its resources, events and the SSE event stream: parse, call the service, map
// the result. No behaviour lives here.
void registerSessionRoutes(ApiServer &server, SessionService &service, EventLog &log, SseHub &hub);
} // namespace viv
