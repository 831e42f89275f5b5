#pragma once

class QObject;

namespace viv {

class Database;
struct Services;
struct SandboxModule;
class RuntimeManager;
class ApiServer;
class SseHub;

// The API layer as the backend wires it.
struct ApiModule
{
    ApiServer *server = nullptr; // routes registered, not listening yet (Backend::start)
    SseHub *sse = nullptr;       // event streams: the log's appends and the runtime's previews
};

// Creates the HTTP server (idempotency records in `db`) with every resource's routes, and the
// SSE hub, which fans out committed events and the runtime's live previews.
ApiModule installApi(Database &db, const Services &services, RuntimeManager &runtime, const SandboxModule &sandbox,
                     int sseHeartbeatMs, QObject *owner);

} // namespace viv
