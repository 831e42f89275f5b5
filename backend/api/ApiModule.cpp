#include "ApiModule.h"

#include "AgentsController.h"
#include "ApiServer.h"
#include "EnvironmentsController.h"
#include "FilesController.h"
#include "MemoryStoresController.h"
#include "SandboxesController.h"
#include "SessionsController.h"
#include "SkillsController.h"
#include "ThreadsController.h"
#include "SseHub.h"
#include "VaultsController.h"
#include "runtime/Runtime.h"
#include "sandbox/SandboxModule.h"
#include "sandbox/SandboxTemplates.h"
#include "services/ServicesModule.h"
#include "services/ThreadService.h"

namespace viv {

ApiModule installApi(Database &db, const Services &services, RuntimeManager &runtime, const SandboxModule &sandbox,
                     int sseHeartbeatMs, QObject *owner)
{
    ApiModule api;
    api.server = new ApiServer(owner);
    api.server->enableIdempotency(db);
    registerEnvironmentRoutes(*api.server, *services.environments);
    registerFileRoutes(*api.server, *services.files);
    registerSkillRoutes(*api.server, *services.skills);
    registerAgentRoutes(*api.server, *services.agents);
    registerVaultRoutes(*api.server, *services.vaults, *services.credentials);
    registerMemoryStoreRoutes(*api.server, *services.memoryStores);
    api.sse = new SseHub(*services.events, sseHeartbeatMs, owner);
    // The hub gets each live preview first, before in-process listeners (the desktop app)
    // connected later: the runtime only announces them.
    QObject::connect(&runtime, &RuntimeManager::previewed, api.sse, &SseHub::preview);
    registerSessionRoutes(*api.server, *services.sessions, *services.events, *api.sse);
    registerThreadRoutes(*api.server, *services.sessions, *services.threads, *services.events, *api.sse);
    registerSandboxRoutes(*api.server, *sandbox.manager, *sandbox.templates);
    return api;
}

} // namespace viv
