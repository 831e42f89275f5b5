#pragma once

namespace viv {
class ApiServer;
class SandboxManager;
// /v1/sandboxes: the raw sandbox API (create, retrieve, list, delete, processes, files,
// pause, resume). Parses, calls SandboxManager, maps the result; README "Sandboxes" documents
// the shapes.
void registerSandboxRoutes(ApiServer &server, SandboxManager &manager);
} // namespace viv
