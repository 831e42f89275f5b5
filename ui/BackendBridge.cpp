#include "BackendBridge.h"

#include "Backend.h"
#include "runtime/Runtime.h"
#include "sandbox/SandboxManager.h"
#include "sandbox/SandboxProgress.h"
#include "secrets/SecretStore.h"
#include "services/AgentService.h"
#include "services/EnvironmentService.h"
#include "services/FileService.h"
#include "services/MemoryStoreService.h"
#include "services/SessionService.h"
#include "services/SkillService.h"
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
    connect(&backend->skills(), &SkillService::changed, this, &BackendBridge::skillChanged);
    connect(&backend->skills(), &SkillService::removed, this, &BackendBridge::skillRemoved);
    MemoryStoreService *memory = &backend->memoryStores();
    connect(memory, &MemoryStoreService::storeChanged, this, &BackendBridge::memoryStoreChanged);
    connect(memory, &MemoryStoreService::storeRemoved, this, &BackendBridge::memoryStoreRemoved);
    connect(memory, &MemoryStoreService::memoryChanged, this, &BackendBridge::memoryChanged);
    connect(memory, &MemoryStoreService::memoryRemoved, this, &BackendBridge::memoryRemoved);
    connect(memory, &MemoryStoreService::versionChanged, this, &BackendBridge::memoryVersionChanged);
    connect(&backend->sessions(), &SessionService::changed, this, &BackendBridge::sessionChanged);
    connect(&backend->sessions(), &SessionService::removed, this, &BackendBridge::sessionRemoved);
    connect(&backend->files(), &FileService::added, this, &BackendBridge::fileAdded);
    connect(&backend->files(), &FileService::removed, this, &BackendBridge::fileRemoved);
    connect(&backend->events(), &EventLog::appended, this, &BackendBridge::eventsAppended);
    // Queued like the rest, so a preview and the commit that ends it arrive in the order the
    // backend thread emitted them.
    connect(&backend->runtime(), &RuntimeManager::previewed, this, &BackendBridge::previewed);

    // Sandboxes: the manager's signals carry types the GUI should not depend on, so they are
    // translated here, on the backend thread (direct connections in the manager's context), and
    // re-emitted; the GUI's receivers live on the GUI thread, so delivery is queued.
    SandboxManager *sandboxes = &backend->sandboxes();
    connect(sandboxes, &SandboxManager::sandboxChanged, sandboxes,
            [this, sandboxes](const QString &id, SandboxManager::State state) {
                auto info = sandboxes->get(id);
                if (info)
                    Q_EMIT sandboxChanged(id, info->toJson());
                else if (state == SandboxManager::State::Dead) // deleted: no longer listed
                    Q_EMIT sandboxChanged(id, QJsonObject{{QStringLiteral("sandboxID"), id},
                                                          {QStringLiteral("state"), QStringLiteral("dead")},
                                                          {QStringLiteral("deleted"), true}});
                // else: a warm-pool VM nobody claimed yet
            });
    connect(sandboxes, &SandboxManager::sessionSandboxChanged, this, &BackendBridge::sessionSandboxChanged);
    connect(sandboxes, &SandboxManager::warmPoolChanged, this, &BackendBridge::warmPoolChanged);
    connect(sandboxes, &SandboxManager::accelerationChanged, sandboxes,
            [this, sandboxes] { Q_EMIT accelerationChanged(sandboxes->acceleration().toJson()); });
    connect(&sandboxes->image(), &GuestImage::statusChanged, sandboxes,
            [this](GuestImage::State state, int percent, const QString &text) {
                Q_EMIT guestImageChanged(guestImageStateName(state), percent, text);
            });
    if (EnvironmentLayers *layers = backend->layers())
        connect(layers, &EnvironmentLayers::statusChanged, layers,
                [this](const QString &hash, EnvironmentLayers::State state, const QString &text) {
                    Q_EMIT environmentLayerChanged(hash, environmentLayerStateName(state), text);
                });
    if (SandboxProgress *progress = backend->sandboxProgress())
        connect(progress, &SandboxProgress::changed, this, &BackendBridge::sandboxProgressChanged);
}

QString BackendBridge::guestImageStateName(GuestImage::State state)
{
    switch (state) {
    case GuestImage::State::Building: return QStringLiteral("building");
    case GuestImage::State::Ready: return QStringLiteral("ready");
    case GuestImage::State::Failed: return QStringLiteral("failed");
    case GuestImage::State::Unknown: break;
    }
    return QStringLiteral("unknown");
}

QString BackendBridge::environmentLayerStateName(EnvironmentLayers::State state)
{
    switch (state) {
    case EnvironmentLayers::State::Building: return QStringLiteral("building");
    case EnvironmentLayers::State::Ready: return QStringLiteral("ready");
    case EnvironmentLayers::State::Failed: return QStringLiteral("failed");
    case EnvironmentLayers::State::None: break;
    }
    return QStringLiteral("none");
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
