#include "SandboxModule.h"

#include "EnvironmentLayers.h"
#include "NetworkPolicy.h"
#include "SandboxManager.h"
#include "SandboxProgress.h"
#include "SandboxTemplates.h"
#include "SandboxToolExecutor.h"
#include "MemoryMountSync.h"
#include "SessionOutputs.h"
#include "SessionSandboxSetup.h"
#include "SessionTtl.h"
#include "WorkspaceResources.h"
#include "runtime/McpTools.h"
#include "runtime/Runtime.h"
#include "services/EnvironmentService.h"
#include "services/ServicesModule.h"
#include "services/SessionService.h"

#include <QJsonArray>
#include <QPointer>
#include <QUrl>

namespace viv {

SandboxModule::SandboxModule() = default;
SandboxModule::~SandboxModule() = default;

void installSandbox(SandboxModule &into, const QString &dataDir, const Services &services,
                    RuntimeManager &runtime, QObject *owner)
{
    into.manager = new SandboxManager(SandboxConfig::fromEnvironment(dataDir), SandboxConfig::instanceTag(dataDir), owner);
    // Package layers exist only with sandbox tools (below): the templates ask for them late.
    into.templates = std::make_unique<SandboxTemplates>(*services.environments, [m = &into] { return m->layers; });
    into.manager->start(); // orphan sweep (asynchronous); prewarm when configured
    // MCP servers are reached from the host, under the session environment's network policy
    // (with or without sandbox tools: the policy is the environment's, not the VM's).
    EnvironmentService *policyEnvs = services.environments;
    runtime.mcp().setEgressCheck([policyEnvs](const QJsonObject &session, const QString &url) -> QString {
        auto env = policyEnvs->retrieve(session.value(QStringLiteral("environment_id")).toString());
        if (!env)
            return QStringLiteral("the session's environment cannot be read: %1").arg(env.error().message());
        QStringList mcpUrls;
        for (const QJsonValue &v : session.value(QStringLiteral("agent")).toObject().value(QStringLiteral("mcp_servers")).toArray())
            mcpUrls << v.toObject().value(QStringLiteral("url")).toString();
        const QJsonObject networking =
            env->value(QStringLiteral("config")).toObject().value(QStringLiteral("networking")).toObject();
        auto policy = NetworkPolicy::fromNetworkingJson(networking, {}, mcpUrls);
        if (!policy)
            return policy.error().message();
        const QUrl u(url);
        const int port = u.port(u.scheme() == u"https" ? 443 : 80);
        if (policy->admits(u.host(), quint16(port)))
            return {};
        return QStringLiteral("environment %1 has `limited` networking that does not admit %2:%3 (set "
                              "`config.networking.allow_mcp_servers`, or list the host in `allowed_hosts`)")
            .arg(env->value(QStringLiteral("id")).toString(), u.host())
            .arg(port);
    });
    // VIVARIUM_SANDBOX_TOOLS=0 keeps the no-sandbox executor (machines without libvirt; the SDK
    // conformance suite, which proves the runtime without VMs).
    if (qEnvironmentVariable("VIVARIUM_SANDBOX_TOOLS") == u"0")
        return;
    // Sessions' memory stores are mounted in their VMs (MemoryMountSync, below).
    services.sessions->setMemoryMounts(true);
    // Built-in tools run in the session's VM; idle sessions' VMs are paused, then stopped;
    // the hard TTL ends sessions (docs/DESIGN.md "Sandboxes → Built-in tools").
    SandboxManager &sandboxes = *into.manager;
    EnvironmentService *envs = services.environments;
    auto executor = std::make_unique<SandboxToolExecutor>(
        sandboxes,
        [envs](const QString &id) {
            auto r = envs->retrieve(id);
            return r ? *r : QJsonObject();
        },
        SandboxToolExecutor::Options::fromEnvironment());
    SandboxToolExecutor *tools = executor.get();
    // Environment package layers live beside the image they build on (shared by every data
    // directory that shares the image cache); session resources go in on the first claim.
    auto *layers = new EnvironmentLayers(sandboxes, sandboxes.config().imageDir + QStringLiteral("/layers"), &sandboxes);
    into.layers = layers;
    auto *resources = new WorkspaceResources(sandboxes, *services.files, &sandboxes);
    auto *setup = new SessionSandboxSetup(*services.sessions, *services.environments, *services.events, runtime,
                                          *layers, *resources, tools);
    setup->setCredentials(services.credentials);
    setup->setSandboxes(&sandboxes);
    tools->setSetup(setup);
    into.progress = new SandboxProgress(sandboxes, layers, tools);
    setup->setProgress(into.progress);
    tools->setProgress(into.progress);
    // Files the agent leaves in /mnt/session/outputs/ go to the Files API when the session idles
    // (before it reports idle: the hooks below).
    auto *outputs = new SessionOutputs(sandboxes, *services.files, tools);
    tools->setOutputs(outputs);
    auto *ttl = new SessionTtl(*services.sessions, runtime, *tools,
                               [envs](const QString &id) {
                                   auto r = envs->retrieve(id);
                                   return r ? *r : QJsonObject();
                               },
                               tools);
    QObject::connect(services.environments, &EnvironmentService::changed, ttl,
                     [ttl](const QString &id, const QJsonObject &) { ttl->onEnvironmentChanged(id); });
    // A session's read_write memory mounts go back into their stores when the session idles
    // (before it reports idle: the hooks below).
    auto *memory = new MemoryMountSync(sandboxes, *services.sessions, *services.memoryStores, *services.events, tools);
    QObject::connect(services.sessions, &SessionService::removed, memory, &MemoryMountSync::forget);
    QObject::connect(services.sessions, &SessionService::changed, tools,
                     [tools, ttl, outputs, memory](const QString &id, const QJsonObject &doc) {
                         outputs->onSessionChanged(id, doc);
                         memory->onSessionChanged(id, doc);
                         tools->onSessionChanged(id, doc);
                         ttl->onSessionChanged(id, doc);
                     });
    QObject::connect(services.sessions, &SessionService::removed, ttl, &SessionTtl::onSessionRemoved);
    QObject::connect(services.sessions, &SessionService::removed, outputs, &SessionOutputs::forget);
    // Both are settled BEFORE a session thread reports idle (the runtime's before-idle hooks,
    // bounded by VIVARIUM_BEFORE_IDLE_TIMEOUT_MS): a client that sees session.status_idle lists
    // the turn's memory versions and output files at once. The after-idle reactions above stay
    // for idles that do not go through the runtime's hooks (archive, recovery after a restart).
    QPointer<MemoryMountSync> memoryHook(memory);
    runtime.addBeforeIdleHook(QStringLiteral("memory sync"),
                              [memoryHook](const QString &id, std::function<void()> done) {
                                  if (!memoryHook)
                                      return done();
                                  memoryHook->settle(id, std::move(done));
                              });
    QPointer<SessionOutputs> outputsHook(outputs);
    runtime.addBeforeIdleHook(QStringLiteral("outputs capture"),
                              [outputsHook](const QString &id, std::function<void()> done) {
                                  if (!outputsHook)
                                      return done();
                                  outputsHook->settle(id, std::move(done));
                              });
    runtime.setToolExecutor(std::move(executor));
    ttl->start();
}

} // namespace viv
