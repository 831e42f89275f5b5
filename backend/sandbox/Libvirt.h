#pragma once

#include "core/Result.h"

#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QThreadPool>

#include <functional>
#include <memory>

typedef struct _virConnect virConnect; // NOLINT(bugprone-reserved-identifier): libvirt's own name

namespace viv {

// libvirt through its C API, never `virsh`. Every blocking call runs on this object's own
// thread pool; results come back on the thread this object lives on (the backend thread), so
// the event loop never waits for libvirt. Lifecycle events arrive from libvirt's default
// event loop (a dedicated thread) and are re-emitted here as queued signals; a polling
// fallback lives in SandboxManager.
class LibvirtHost : public QObject
{
    Q_OBJECT
public:
    struct DomainInfo
    {
        QString name;
        int state = 0; // virDomainState
        int pid = 0;   // QEMU's process id when known (0 otherwise)
    };

    explicit LibvirtHost(QString uri, QObject *parent = nullptr);
    ~LibvirtHost() override;

    const QString &uri() const { return m_uri; }

    // Runs `work` on the libvirt pool, then `done(result)` on this object's thread.
    template <typename T>
    void run(std::function<Result<T>()> work, std::function<void(Result<T>)> done)
    {
        auto self = QPointer<LibvirtHost>(this);
        m_pool.start([self, work = std::move(work), done = std::move(done)]() mutable {
            auto result = std::make_shared<Result<T>>(work());
            if (!self)
                return;
            QMetaObject::invokeMethod(self, [result, done = std::move(done)]() { done(std::move(*result)); },
                                      Qt::QueuedConnection);
        });
    }

    // Waits until every run() work function has returned (their `done` callbacks are queued,
    // not called). For shutdown: a domain being created is then there to be destroyed.
    void waitForIdle() { m_pool.waitForDone(); }

    // Blocking calls: call them only from inside run()'s work function (or at shutdown).
    Status createDomainBlocking(const QString &xml);
    Status destroyDomainBlocking(const QString &name); // gone already counts as success
    Status suspendBlocking(const QString &name);
    Status resumeBlocking(const QString &name);
    Status saveBlocking(const QString &name, const QString &file);
    Status restoreBlocking(const QString &file);
    Result<QList<DomainInfo>> listBlocking(const QString &namePrefix);

    struct EventSink; // libvirt's callback cookie (public for the C callback)

Q_SIGNALS:
    // A domain of ours stopped, crashed, was suspended or resumed (virDomainEventType).
    void domainEvent(const QString &name, int event, int detail);

private:
    // A counted reference to the connection (virConnectRef), released when it goes.
    struct Conn
    {
        virConnect *c = nullptr;
        explicit Conn(virConnect *conn) : c(conn) {}
        Conn(Conn &&o) noexcept : c(std::exchange(o.c, nullptr)) {}
        Conn(const Conn &) = delete;
        Conn &operator=(const Conn &) = delete;
        Conn &operator=(Conn &&) = delete;
        ~Conn();
    };
    Result<Conn> connection();
    void dropConnection(); // with the connect mutex held
    static QString lastError(const char *what);
    static void ensureEventLoop();
    QString m_uri;
    QThreadPool m_pool;
    virConnect *m_conn = nullptr;
    int m_callbackId = -1;
};

} // namespace viv
