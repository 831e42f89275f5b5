#pragma once

#include <QString>

namespace viv {
class ApiServer;
class SandboxManager;
class SandboxTemplates;
// /v1/sandboxes (and /sandboxes): the raw sandbox API (create, retrieve, list, delete,
// processes, files, pause, resume). Parses, resolves `templateID` (SandboxTemplates), calls
// SandboxManager, maps the result; README "Sandboxes" documents the shapes.
void registerSandboxRoutes(ApiServer &server, SandboxManager &manager, const SandboxTemplates &templates);
void registerSandboxRoutesAt(ApiServer &server, const QString &base, SandboxManager &manager,
                             const SandboxTemplates &templates);
} // namespace viv
