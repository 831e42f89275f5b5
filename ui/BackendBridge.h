#pragma once

#include "Config.h"
#include "core/Result.h"
#include "sandbox/EnvironmentLayers.h"
#include "sandbox/GuestImage.h"
#include "services/EventLog.h"
#include "store/DocTable.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QThread>

#include <functional>

namespace viv {

class Backend;

// The GUI's only way to the backend. The Backend (store, services, HTTP server) lives on its
// own QThread; calls are posted to that thread with QMetaObject::invokeMethod and their results
// come back as queued calls on the GUI thread, so the GUI thread never waits for SQLite or the
// keychain. Service signals are re-emitted here (queued across the thread boundary). Never HTTP.
class BackendBridge : public QObject
{
    Q_OBJECT
public:
    explicit BackendBridge(QObject *parent = nullptr);
    ~BackendBridge() override;

    // Creates the Backend on the backend thread and starts it (with the HTTP listener when
    // `listen`, else only store and services). Emits ready() or failed() on the GUI thread.
    void start(const Config &config, bool listen = true);
    // Destroys the backend on its thread and joins the thread (application shutdown).
    void stop();

    bool isReady() const { return m_ready; }
    QString baseUrl() const { return m_baseUrl; }
    QString apiKey() const { return m_apiKey; }
    const Config &config() const { return m_config; }
    // The name guestImageChanged() uses for a GuestImage state.
    static QString guestImageStateName(GuestImage::State state);
    // The name environmentLayerChanged() uses for an EnvironmentLayers state.
    static QString environmentLayerStateName(EnvironmentLayers::State state);

    // Every item of a paginated list, for use inside `work` (backend thread): calls `fetch` with
    // successive cursors until the last page.
    template <typename Fetch>
    static Result<QJsonArray> allPages(Fetch fetch)
    {
        QJsonArray all;
        PageRequest req;
        req.limit = 100;
        for (;;) {
            auto page = fetch(req);
            if (!page)
                return page.error();
            for (const auto &v : page->data)
                all.append(v);
            if (page->nextPage.isEmpty())
                return all;
            req.page = page->nextPage;
        }
    }

    // Runs `work` on the backend thread; `done` runs later on the GUI thread unless `context`
    // was destroyed meanwhile. `work` must touch only the Backend it is given.
    template <typename T>
    void call(QObject *context, std::function<Result<T>(Backend &)> work,
              std::function<void(Result<T>)> done)
    {
        auto deliver = deliverer<T>(context, std::move(done));
        if (!m_ready) {
            deliver(notReadyError());
            return;
        }
        Backend *backend = m_backend;
        QMetaObject::invokeMethod(
            m_worker, [backend, work = std::move(work), deliver]() { deliver(work(*backend)); },
            Qt::QueuedConnection);
    }

    // Like call(), for backend operations that answer through a callback (keychain jobs).
    template <typename T>
    void callAsync(QObject *context, std::function<void(Backend &, Callback<T>)> work,
                   std::function<void(Result<T>)> done)
    {
        auto deliver = deliverer<T>(context, std::move(done));
        if (!m_ready) {
            deliver(notReadyError());
            return;
        }
        Backend *backend = m_backend;
        QMetaObject::invokeMethod(
            m_worker, [backend, work = std::move(work), deliver]() { work(*backend, deliver); },
            Qt::QueuedConnection);
    }

Q_SIGNALS:
    void ready(const QString &baseUrl);
    void failed(const QString &message);

    void agentChanged(const QString &id, const QJsonObject &agent);
    void environmentChanged(const QString &id, const QJsonObject &environment);
    void environmentRemoved(const QString &id);
    void vaultChanged(const QString &id, const QJsonObject &vault);
    void vaultRemoved(const QString &id);
    void credentialChanged(const QString &vaultId, const QString &credentialId,
                           const QJsonObject &credential);
    void credentialRemoved(const QString &vaultId, const QString &credentialId);
    void skillChanged(const QString &id);
    void skillRemoved(const QString &id);
    // MemoryStoreService's signals, forwarded.
    void memoryStoreChanged(const QString &storeId, const QJsonObject &store);
    void memoryStoreRemoved(const QString &storeId);
    void memoryChanged(const QString &storeId, const QString &memoryId, const QJsonObject &memory);
    void memoryRemoved(const QString &storeId, const QString &memoryId);
    void memoryVersionChanged(const QString &storeId, const QJsonObject &version);
    void sessionChanged(const QString &id, const QJsonObject &session);
    void sessionRemoved(const QString &id);
    // FileService's signals, forwarded: a file stored (uploaded, or a session output captured:
    // `file.scope` names the session) or deleted.
    void fileAdded(const QString &id, const QJsonObject &file);
    void fileRemoved(const QString &id);
    // Committed events, in log order (EventLog::appended, forwarded).
    void eventsAppended(const QString &sessionId, const QList<viv::LoggedEvent> &events);
    // Stream-only live previews of a model response in progress (RuntimeManager::previewed,
    // forwarded): `event_start` / `event_delta` objects, never persisted. The committed event
    // that ends a preview carries the id announced by its `event_start`.
    void previewed(const QString &sessionId, const QString &previewedType, const QJsonObject &preview);
    // A claimed sandbox changed state (SandboxManager::sandboxChanged, forwarded): `info` is
    // SandboxManager::Info::toJson(), or {sandboxID, state: "dead", deleted: true} once it is
    // gone (deleted, or a session's VM released).
    void sandboxChanged(const QString &sandboxId, const QJsonObject &info);
    // A session got its sandbox (SandboxManager::sessionSandboxChanged, forwarded).
    void sessionSandboxChanged(const QString &sessionId, const QString &sandboxId);
    void warmPoolChanged(int ready);
    // `auto` acceleration settled (SandboxManager::accelerationChanged, forwarded):
    // Acceleration::toJson() — {setting, accelerator: kvm|tcg|deciding, reason}.
    void accelerationChanged(const QJsonObject &acceleration);
    // The guest image (GuestImage::statusChanged, forwarded): `state` is one of "unknown",
    // "building", "ready", "failed".
    void guestImageChanged(const QString &state, int percent, const QString &text);
    // An environment package layer (EnvironmentLayers::statusChanged, forwarded): `hash` names
    // the layer (EnvironmentLayers::Status::hash), `state` is one of "none", "building",
    // "ready", "failed"; `text` is the build's progress or the failure's message.
    void environmentLayerChanged(const QString &hash, const QString &state, const QString &text);
    // What a session's waiting tool call is blocked on (SandboxProgress::changed, forwarded):
    // {phase: preparing|image|layer|vm|ready|failed, percent, step, vm, accelerator, trying_kvm,
    // message, stage, log} (backend/sandbox/SandboxProgress.h).
    void sandboxProgressChanged(const QString &sessionId, const QJsonObject &progress);

private:
    static ApiError notReadyError();
    void onStarted(const QString &baseUrl, const QString &apiKey);
    void wireSignals(Backend *backend);

    template <typename T>
    std::function<void(Result<T>)> deliverer(QObject *context, std::function<void(Result<T>)> done)
    {
        QPointer<QObject> ctx(context);
        QPointer<BackendBridge> self(this);
        return [self, ctx, done = std::move(done)](Result<T> result) {
            // Posted to the bridge (it outlives the backend thread); the context is checked on
            // the GUI thread, where it is destroyed.
            QMetaObject::invokeMethod(
                self.data(),
                [ctx, done, result = std::move(result)]() {
                    if (ctx)
                        done(result);
                },
                Qt::QueuedConnection);
        };
    }

    Config m_config;
    QThread *m_thread = nullptr;
    QObject *m_worker = nullptr; // lives on the backend thread: the target of posted calls
    Backend *m_backend = nullptr;
    bool m_ready = false;
    QString m_baseUrl;
    QString m_apiKey;
};

} // namespace viv
