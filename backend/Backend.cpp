#include "Backend.h"

#include "api/ApiServer.h"
#include "api/EnvironmentsController.h"
#include "core/Ids.h"
#include "secrets/SecretStore.h"
#include "services/EnvironmentService.h"
#include "store/Database.h"
// [files-include]
#include "api/FilesController.h"
#include "services/FileService.h"
// [agents-include]
#include "api/AgentsController.h"
#include "services/AgentService.h"
// [vaults-include]
#include "api/VaultsController.h"
#include "services/VaultService.h"
// [sessions-include]
#include "api/SessionsController.h"
#include "api/SseHub.h"
#include "services/EventLog.h"
#include "services/SessionService.h"
#include "runtime/Runtime.h"
// [sandbox-include]
#include "api/SandboxesController.h"
#include "sandbox/SandboxManager.h"
#include "sandbox/SandboxProgress.h"
#include "sandbox/SandboxTemplates.h"
#include "sandbox/EnvironmentLayers.h"
#include "sandbox/SandboxToolExecutor.h"
#include "sandbox/SessionSandboxSetup.h"
#include "sandbox/WorkspaceResources.h"
#include "sandbox/SessionTtl.h"

#include <QDir>
#include <QHostInfo>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QPointer>

Q_LOGGING_CATEGORY(lcBackend, "vivarium.backend")

namespace viv {

namespace {
const QString kApiKeyEntry = QStringLiteral("api-key");
}

Backend::Backend(Config config, QObject *parent)
    : QObject(parent), m_config(std::move(config)), m_db(std::make_unique<Database>())
{
}

Backend::~Backend()
{
    // Children (services, server) go first via QObject; the database closes last. The runtime
    // goes first of all: it cancels in-flight model requests and tools without writing.
    delete m_runtime;
    m_runtime = nullptr;
    delete m_api;
    m_api = nullptr;
}

QString Backend::baseUrl() const
{
    QString host = m_config.listenHost;
    if (host.contains(u':'))
        host = u'[' + host + u']';
    return QStringLiteral("http://%1:%2").arg(host).arg(m_port);
}

Result<QString> Backend::resolveApiKey(SecretStore &secrets, const QString &fixed)
{
    if (!fixed.isEmpty())
        return fixed;
    auto stored = secrets.readBlocking(kApiKeyEntry);
    if (stored && !stored->isEmpty())
        return QString::fromUtf8(*stored);
    if (!stored && stored.error().kind() != ApiError::Kind::NotFound)
        return ApiError::unavailable(
            QStringLiteral("cannot read the API key from the OS keychain (%1); set "
                           "VIVARIUM_API_KEY to run without one")
                .arg(stored.error().message()));
    const QString key = QStringLiteral("sk-viv-") + ids::secret(32);
    if (auto s = secrets.writeBlocking(kApiKeyEntry, key.toUtf8()); !s)
        return s.error();
    qCInfo(lcBackend) << "generated a new API key and stored it in the OS keychain";
    return key;
}

Status Backend::openServices()
{
    if (!QDir().mkpath(m_config.dataDir))
        return ApiError::internal(QStringLiteral("cannot create data directory %1").arg(m_config.dataDir));
    QFile::setPermissions(m_config.dataDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    if (auto s = m_db->open(m_config.databasePath()); !s)
        return s;
    m_secrets = new SecretStore(m_config.keychainService, this);
    m_api = new ApiServer(this);
    m_api->enableIdempotency(*m_db);
    m_environments = new EnvironmentService(*m_db, this);
    registerEnvironmentRoutes(*m_api, *m_environments);
    m_files = new FileService(*m_db, m_config.dataDir + QStringLiteral("/files"), this);
    registerFileRoutes(*m_api, *m_files);
    // [agents-wire]
    m_agents = new AgentService(*m_db, this);
    registerAgentRoutes(*m_api, *m_agents);
    // [vaults-wire]
    m_vaults = new VaultService(*m_db, *m_secrets, this);
    registerVaultRoutes(*m_api, *m_vaults);
    // [sessions-wire]
    m_events = new EventLog(*m_db, this);
    m_sessions = new SessionService(*m_db, *m_events, *m_agents, *m_environments, *m_vaults, *m_files, *m_secrets, this);
    m_sse = new SseHub(*m_events, m_config.sseHeartbeatMs, this);
    registerSessionRoutes(*m_api, *m_sessions, *m_events, *m_sse);
    m_runtime = new RuntimeManager(m_config, *m_sessions, *m_events, *m_vaults, *m_sse, this);
    m_runtime->start(); // crash recovery, then queued work resumes
    // [sandbox-wire]
    m_sandboxes = new SandboxManager(SandboxConfig::fromEnvironment(m_config.dataDir),
                                     SandboxConfig::instanceTag(m_config.dataDir), this);
    // Package layers exist only with sandbox tools (below): the templates ask for them late.
    m_templates = std::make_unique<SandboxTemplates>(*m_environments, [this] { return m_layers; });
    registerSandboxRoutes(*m_api, *m_sandboxes, *m_templates);
    m_sandboxes->start(); // orphan sweep (asynchronous); prewarm when configured
    // VIVARIUM_SANDBOX_TOOLS=0 keeps the no-sandbox executor (machines without libvirt; the SDK
    // conformance suite, which proves the runtime without VMs).
    if (qEnvironmentVariable("VIVARIUM_SANDBOX_TOOLS") != u"0") {
        // Built-in tools run in the session's VM; idle sessions' VMs are paused, then stopped;
        // the hard TTL ends sessions (docs/DESIGN.md "Sandboxes → Built-in tools").
        EnvironmentService *envs = m_environments;
        auto executor = std::make_unique<SandboxToolExecutor>(
            *m_sandboxes,
            [envs](const QString &id) {
                auto r = envs->retrieve(id);
                return r ? *r : QJsonObject();
            },
            SandboxToolExecutor::Options::fromEnvironment());
        SandboxToolExecutor *tools = executor.get();
        // Environment package layers live beside the image they build on (shared by every data
        // directory that shares the image cache); session resources go in on the first claim.
        auto *layers = new EnvironmentLayers(*m_sandboxes, m_sandboxes->config().imageDir + QStringLiteral("/layers"), m_sandboxes);
        m_layers = layers;
        auto *resources = new WorkspaceResources(*m_sandboxes, *m_files, m_sandboxes);
        auto *setup = new SessionSandboxSetup(*m_sessions, *m_environments, *m_events, *m_runtime, *layers,
                                              *resources, tools);
        setup->setVaults(m_vaults);
        tools->setSetup(setup);
        m_sandboxProgress = new SandboxProgress(*m_sandboxes, layers, tools);
        setup->setProgress(m_sandboxProgress);
        tools->setProgress(m_sandboxProgress);
        auto *ttl = new SessionTtl(*m_sessions, *m_runtime, *tools,
                                   [envs](const QString &id) {
                                       auto r = envs->retrieve(id);
                                       return r ? *r : QJsonObject();
                                   },
                                   tools);
        connect(m_environments, &EnvironmentService::changed, ttl,
                [ttl](const QString &id, const QJsonObject &) { ttl->onEnvironmentChanged(id); });
        connect(m_sessions, &SessionService::changed, tools, [tools, ttl](const QString &id, const QJsonObject &doc) {
            tools->onSessionChanged(id, doc);
            ttl->onSessionChanged(id, doc);
        });
        connect(m_sessions, &SessionService::removed, ttl, &SessionTtl::onSessionRemoved);
        m_runtime->setToolExecutor(std::move(executor));
        ttl->start();
    }
    return Ok{};
}

Status Backend::startWithoutListening()
{
    return openServices();
}

void Backend::setProviderDefaults(const QString &keyEntry, const QUrl &baseUrl, const QString &apiKey)
{
    ProviderDefaults &d = keyEntry == Config::kOpenAiKeyEntry ? m_config.openai : m_config.anthropic;
    if (baseUrl.isValid() && !baseUrl.isEmpty() && d.urlEnvVar.isEmpty())
        d.baseUrl = baseUrl;
    if (!apiKey.isEmpty() && d.keyEnvVar.isEmpty())
        d.apiKey = apiKey;
}

void Backend::storeProviderKey(const QString &keyEntry, const QString &apiKey, Callback<Ok> done)
{
    const QString entry = keyEntry == Config::kOpenAiKeyEntry ? Config::kOpenAiKeyEntry : Config::kAnthropicKeyEntry;
    QPointer<Backend> self(this);
    m_secrets->write(entry, apiKey.toUtf8(), [self, entry, apiKey, done = std::move(done)](Result<Ok> r) {
        if (r && self) // in use from the next model request on
            self->setProviderDefaults(entry, QUrl(), apiKey);
        done(std::move(r));
    });
}

void Backend::probeProvider(ProviderEndpoint::Kind kind, const QUrl &baseUrl, const QString &apiKey,
                            std::function<void(ProbeResult)> done)
{
    if (!m_probeNam)
        m_probeNam = new QNetworkAccessManager(this);
    const ProviderDefaults &d = kind == ProviderEndpoint::Kind::Anthropic ? m_config.anthropic : m_config.openai;
    viv::probeProvider(*m_probeNam, kind, baseUrl.isEmpty() ? d.baseUrl : baseUrl,
                       apiKey.isEmpty() ? d.apiKey : apiKey, std::move(done));
}

Status Backend::start()
{
    if (auto s = openServices(); !s)
        return s;
    auto key = resolveApiKey(*m_secrets, m_config.apiKey);
    if (!key)
        return key.error();
    m_config.apiKey = *key;
    m_api->setApiKey(m_config.apiKey);
    // Provider keys saved in the desktop Settings serve when the environment gave none.
    for (auto [entry, defaults] : {std::pair{Config::kAnthropicKeyEntry, &m_config.anthropic},
                                   std::pair{Config::kOpenAiKeyEntry, &m_config.openai}}) {
        if (!defaults->apiKey.isEmpty())
            continue;
        auto stored = m_secrets->readBlocking(entry);
        if (stored && !stored->isEmpty())
            defaults->apiKey = QString::fromUtf8(*stored);
        else if (!stored && stored.error().kind() != ApiError::Kind::NotFound)
            qCWarning(lcBackend).noquote() << "cannot read the provider key" << entry
                                           << "from the OS keychain:" << stored.error().message();
    }
    m_api->setListenHost(m_config.listenHost);

    QHostAddress address(m_config.listenHost);
    if (address.isNull()) {
        const QHostInfo info = QHostInfo::fromName(m_config.listenHost);
        if (info.addresses().isEmpty())
            return ApiError::invalid(QStringLiteral("cannot resolve listen host %1").arg(m_config.listenHost));
        address = info.addresses().constFirst();
    }
    if (!address.isLoopback())
        qCWarning(lcBackend) << "listening on non-loopback address" << address.toString()
                             << "as requested; the API key is the only protection";
    auto port = m_api->listenOn(address, m_config.port);
    if (!port)
        return port.error();
    m_port = *port;
    qCInfo(lcBackend).noquote() << "Managed Agents API listening on" << baseUrl();
    return Ok{};
}

} // namespace viv
