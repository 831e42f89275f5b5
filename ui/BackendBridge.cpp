#include "BackendBridge.h"

#include "Backend.h"
#include "runtime/Runtime.h"
#include "secrets/SecretStore.h"
#include "services/AgentService.h"
#include "services/EnvironmentService.h"
#include "services/SessionService.h"
#include "services/VaultService.h"

namespace viv {

BackendBridge::BackendBridge(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<viv::LoggedEvent>();
    qRegisterMetaType<QList<viv::LoggedEvent>>();
}

BackendBridge::~BackendBridge()
{
    stop();
}

ApiError BackendBridge::notReadyError()
{
    return ApiError::unavailable(tr("The backend is not running."));
}

void BackendBridge::start(const Config &config, bool listen)
{
    if (m_thread)
        return;
    m_config = config;
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("backend"));
    m_worker = new QObject;
    m_worker->moveToThread(m_thread);
    // Destroyed on its own thread, after the event loop has ended.
    connect(m_thread, &QThread::finished, m_worker, [this] {
        delete m_backend;
        m_backend = nullptr;
        delete m_worker;
        m_worker = nullptr;
    }, Qt::DirectConnection);
    m_thread->start();

    QPointer<BackendBridge> self(this);
    QMetaObject::invokeMethod(m_worker, [this, self, config, listen] {
        // Runs on the backend thread: everything the backend creates belongs to it.
        auto *backend = new Backend(config);
        m_backend = backend;
        const Status s = listen ? backend->start() : backend->startWithoutListening();
        if (s) {
            // Still on the backend thread, before its event loop can serve any request.
            wireSignals(backend);
            const QString url = listen ? backend->baseUrl() : QString();
            const QString key = backend->apiKey();
            QMetaObject::invokeMethod(self.data(), [this, url, key] { onStarted(url, key); },
                                      Qt::QueuedConnection);
        } else {
            const QString message = s.error().message();
            QMetaObject::invokeMethod(self.data(), [this, message] { Q_EMIT failed(message); },
                                      Qt::QueuedConnection);
        }
    }, Qt::QueuedConnection);
}

void BackendBridge::onStarted(const QString &baseUrl, const QString &apiKey)
{
    m_baseUrl = baseUrl;
    m_apiKey = apiKey;
    m_ready = true;
    Q_EMIT ready(baseUrl);
}

void BackendBridge::wireSignals(Backend *backend)
{
    // Signal-to-signal connections across threads are queued.
    connect(&backend->agents(), &AgentService::changed, this, &BackendBridge::agentChanged);
    connect(&backend->environments(), &EnvironmentService::changed, this,
            &BackendBridge::environmentChanged);
    connect(&backend->environments(), &EnvironmentService::removed, this,
            &BackendBridge::environmentRemoved);
    connect(&backend->vaults(), &VaultService::vaultChanged, this, &BackendBridge::vaultChanged);
    connect(&backend->vaults(), &VaultService::vaultRemoved, this, &BackendBridge::vaultRemoved);
    connect(&backend->vaults(), &VaultService::credentialChanged, this,
            &BackendBridge::credentialChanged);
    connect(&backend->vaults(), &VaultService::credentialRemoved, this,
            &BackendBridge::credentialRemoved);
    connect(&backend->sessions(), &SessionService::changed, this, &BackendBridge::sessionChanged);
    connect(&backend->sessions(), &SessionService::removed, this, &BackendBridge::sessionRemoved);
    connect(&backend->events(), &EventLog::appended, this, &BackendBridge::eventsAppended);
    // Queued like the rest, so a preview and the commit that ends it arrive in the order the
    // backend thread emitted them.
    connect(&backend->runtime(), &RuntimeManager::previewed, this, &BackendBridge::previewed);
}

void BackendBridge::stop()
{
    if (!m_thread)
        return;
    m_ready = false;
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
}

} // namespace viv
