#include "Backend.h"

#include "api/ApiServer.h"
#include "api/SseHub.h"
#include "core/Ids.h"
#include "runtime/Runtime.h"
#include "runtime/RuntimeModule.h"
#include "secrets/SecretStore.h"
#include "store/Database.h"

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
    delete m_api.server;
    m_api.server = nullptr;
    delete m_api.sse; // its streams end with the server
    m_api.sse = nullptr;
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
    // One module per layer, bottom up; each lower one knows nothing of those above it.
    m_services = installServices(*m_db, *m_secrets, m_config.dataDir, this);
    m_runtime = installRuntime(m_config, m_services, this);
    installSandbox(m_sandbox, m_config.dataDir, m_services, *m_runtime, this);
    m_api = installApi(*m_db, m_services, *m_runtime, m_sandbox, m_config.sseHeartbeatMs, this);
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
                            const std::function<void(ProbeResult)> &done)
{
    if (!m_probeNam)
        m_probeNam = new QNetworkAccessManager(this);
    const ProviderDefaults &d = kind == ProviderEndpoint::Kind::Anthropic ? m_config.anthropic : m_config.openai;
    viv::probeProvider(*m_probeNam, kind, baseUrl.isEmpty() ? d.baseUrl : baseUrl, apiKey.isEmpty() ? d.apiKey : apiKey,
                       done);
}

Status Backend::start()
{
    if (auto s = openServices(); !s)
        return s;
    auto key = resolveApiKey(*m_secrets, m_config.apiKey);
    if (!key)
        return key.error();
    m_config.apiKey = *key;
    m_api.server->setApiKey(m_config.apiKey);
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
    m_api.server->setListenHost(m_config.listenHost);

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
    auto port = m_api.server->listenOn(address, m_config.port);
    if (!port)
        return port.error();
    m_port = *port;
    qCInfo(lcBackend).noquote() << "Managed Agents API listening on" << baseUrl();
    return Ok{};
}

} // namespace viv
