#pragma once

#include "core/Result.h"

#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QThreadPool>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

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

    // Runs `work` on the libvirt pool, then `done(result)` on this object's thread (dropped if
    // this object is gone by then).
    template <typename T>
    void run(std::function<Result<T>()> work, std::function<void(Result<T>)> done)
    {
        toPool([this, work = std::move(work), done = std::move(done)]() mutable {
            auto result = std::make_shared<Result<T>>(work());
            toOwner([result, done = std::move(done)]() { done(std::move(*result)); });
        });
    }

    // Runs `fn` on this object's thread, after the calls queued before it; callable from any
    // thread while this object exists (the pool's work, libvirt's event thread). Dropped if
    // this object is deleted first.
    void toOwner(std::function<void()> fn);

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

    // The hand-overs between threads: the functions travel in these queues, under
    // m_handOverMutex, and Qt carries only a wake-up (a pool task that captures nothing but
    // `this`; a queued call of runOnOwner by name). The hand-over is then a std::mutex, which
    // ThreadSanitizer sees, rather than the locks inside QThreadPool and Qt's event queue, which
    // it cannot see (Qt is not built with it; docs/DESIGN.md "ThreadSanitizer").
    void toPool(std::function<void()> job);
    Q_INVOKABLE void runOnOwner(); // one queued call per toOwner(): runs the oldest
    std::mutex m_handOverMutex;
    std::deque<std::function<void()>> m_poolJobs;   // guarded by m_handOverMutex
    std::deque<std::function<void()>> m_ownerCalls; // guarded by m_handOverMutex

    QString m_uri;
    QThreadPool m_pool;
    virConnect *m_conn = nullptr;
    int m_callbackId = -1;
};

} // namespace viv
