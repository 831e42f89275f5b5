#pragma once

namespace viv {
class ApiServer;
class AgentService;
// /v1/agents and /v1/agents/{id}/versions: parse, call the service, map the result.
void registerAgentRoutes(ApiServer &server, AgentService &service);
} // namespace viv
