#pragma once

namespace viv {
class ApiServer;
class EnvironmentService;
// /v1/environments: parse, call the service, map the result. No behaviour lives here.
void registerEnvironmentRoutes(ApiServer &server, EnvironmentService &service);
} // namespace viv
