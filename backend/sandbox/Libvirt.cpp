#include "Libvirt.h"
#include "LibvirtTestHooks.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QMutex>
#include <QPointer>
#include <QThread>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

Q_LOGGING_CATEGORY(lcLibvirt, "vivarium.sandbox.libvirt")

namespace viv {

struct LibvirtHost::EventSink
{
    QPointer<LibvirtHost> host;
    // libvirt hands the sink from the thread that registers it to the threads that call
    // lifecycleCallback (its event-loop thread, or whichever thread runs GLib's default main
    // context: Qt's main thread too) and on to freeSink under its own and GLib's locks, which
    // ThreadSanitizer cannot see. A release after set-up and after each call, an acquire before
    // each call and before the delete, make that order visible to it (libvirt provides it).
    std::atomic<int> calls{0};
};

namespace {
std::mutex g_connectMutex;

int lifecycleCallback(virConnectPtr, virDomainPtr dom, int event, int detail, void *opaque)
{
    auto *sink = static_cast<LibvirtHost::EventSink *>(opaque);
    (void)sink->calls.load(std::memory_order_acquire);
    const QString name = QString::fromUtf8(virDomainGetName(dom));
    if (name.startsWith(QLatin1String("vivarium-"))) {
        QPointer<LibvirtHost> host = sink->host;
        if (host)
            host->toOwner([h = host.data(), name, event, detail]() { Q_EMIT h->domainEvent(name, event, detail); });
    }
    sink->calls.fetch_add(1, std::memory_order_release);
    return 0;
}

void freeSink(void *opaque)
{
    auto *sink = static_cast<LibvirtHost::EventSink *>(opaque);
    (void)sink->calls.load(std::memory_order_acquire);
    delete sink;
}

// libvirt logs every error to stderr by default; we report errors ourselves.
void quietErrors(void *, virErrorPtr) {}
} // namespace

LibvirtHost::LibvirtHost(QString uri, QObject *parent) : QObject(parent), m_uri(std::move(uri))
{
    m_pool.setMaxThreadCount(4);
    m_pool.setExpiryTimeout(-1);
}

LibvirtHost::~LibvirtHost()
{
    m_pool.waitForDone();
    {
        // The pool's tasks made their last hand-overs under this mutex; taking it orders them
        // before the queues go (waitForDone() orders them too, but through Qt's own lock, which
        // ThreadSanitizer does not see: it reported the queues' destruction as a race). What
        // is left is destroyed after the lock is released, so no callback's captures run
        // under it.
        std::deque<std::function<void()>> jobs;
        std::deque<std::function<void()>> calls;
        {
            std::lock_guard lock(m_handOverMutex);
            jobs.swap(m_poolJobs);
            calls.swap(m_ownerCalls);
        }
    }
    std::lock_guard lock(g_connectMutex);
    dropConnection();
}

void LibvirtHost::toPool(std::function<void()> job)
{
    {
        std::lock_guard lock(m_handOverMutex);
        m_poolJobs.push_back(std::move(job));
    }
    // One task per job, each taking the oldest job waiting. ~LibvirtHost waits for the pool, so
    // `this` outlives every task.
    m_pool.start([this] {
        std::function<void()> next;
        {
            std::lock_guard lock(m_handOverMutex);
            if (m_poolJobs.empty())
                return;
            next = std::move(m_poolJobs.front());
            m_poolJobs.pop_front();
        }
        next();
    });
}

void LibvirtHost::toOwner(std::function<void()> fn)
{
    {
        std::lock_guard lock(m_handOverMutex);
        m_ownerCalls.push_back(std::move(fn));
    }
    QMetaObject::invokeMethod(this, "runOnOwner", Qt::QueuedConnection);
}

void LibvirtHost::runOnOwner()
{
    std::function<void()> next;
    {
        std::lock_guard lock(m_handOverMutex);
        if (m_ownerCalls.empty())
            return;
        next = std::move(m_ownerCalls.front());
        m_ownerCalls.pop_front();
    }
    next();
}

void LibvirtHost::ensureEventLoop()
{
    static std::once_flag once;
    std::call_once(once, [] {
        // libvirt's client writes to its socket without MSG_NOSIGNAL: when libvirtd goes away,
        // the next write raised SIGPIPE and killed the whole process (vivariumd, the app).
        // libvirt asks its clients to ignore SIGPIPE; the write then fails with EPIPE, the
        // connection is marked dead and connection() opens a new one.
        ::signal(SIGPIPE, SIG_IGN);
        virSetErrorFunc(nullptr, quietErrors);
        if (virEventRegisterDefaultImpl() < 0) {
            qCWarning(lcLibvirt) << "cannot register libvirt's event loop; lifecycle events off (polling only)";
            return;
        }
        std::thread([] {
            for (;;)
                virEventRunDefaultImpl();
        }).detach();
    });
}

QString LibvirtHost::lastError(const char *what)
{
    const char *msg = virGetLastErrorMessage();
    return QStringLiteral("libvirt: %1 failed: %2").arg(QLatin1String(what), QString::fromUtf8(msg ? msg : "unknown error"));
}

// The connection every blocking call uses: opened on first use, and opened anew when libvirtd
// went away (restarted by a package upgrade, or crashed): without that, every VM start, pause
// and destroy failed until vivariumd restarted, and its VMs outlived it. Each caller holds its
// own reference, so a call still using the old connection finishes (with libvirt's error)
// while the next one gets the new one. Domains survive a libvirtd restart (it re-attaches to
// their QEMU processes), so they are found again by name.
Result<LibvirtHost::Conn> LibvirtHost::connection()
{
    std::lock_guard lock(g_connectMutex);
    if (m_conn && virConnectIsAlive(m_conn) != 1) {
        qCWarning(lcLibvirt).noquote() << "the connection to" << m_uri << "is gone (libvirtd restarted?); reconnecting";
        dropConnection();
    }
    if (!m_conn) {
        ensureEventLoop();
        m_conn = virConnectOpen(m_uri.toUtf8().constData());
        if (!m_conn)
            return ApiError::unavailable(lastError("connecting to ") + QStringLiteral(" (URI %1; is libvirtd running? "
                                                                                       "installer/setup.sh starts it)").arg(m_uri));
        auto *sink = new EventSink{QPointer<LibvirtHost>(this)}; // libvirt frees it with the callback
        sink->calls.store(0, std::memory_order_release);
        m_callbackId = virConnectDomainEventRegisterAny(m_conn, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                        VIR_DOMAIN_EVENT_CALLBACK(lifecycleCallback), sink, freeSink);
        if (m_callbackId < 0) {
            delete sink;
            qCWarning(lcLibvirt).noquote() << lastError("registering lifecycle events") << "- polling only";
        }
        qCInfo(lcLibvirt).noquote() << "connected to" << m_uri;
    }
    virConnectRef(m_conn);
    return Conn(m_conn);
}

void LibvirtHost::dropConnection()
{
    if (!m_conn)
        return;
    if (m_callbackId >= 0)
        virConnectDomainEventDeregisterAny(m_conn, m_callbackId); // frees the sink (if still reachable)
    m_callbackId = -1;
    virConnectClose(m_conn); // callers holding a Conn keep it until they are done
    m_conn = nullptr;
}

LibvirtHost::Conn::~Conn()
{
    if (c)
        virConnectClose(c);
}

namespace {
struct DomainRef
{
    virDomainPtr d = nullptr;
    ~DomainRef()
    {
        if (d)
            virDomainFree(d);
    }
};
} // namespace

Status LibvirtHost::createDomainBlocking(const QString &xml)
{
    auto conn = connection();
    if (!conn)
        return conn.error();
    QElapsedTimer clock;
    clock.start();
    DomainRef dom{virDomainCreateXML(conn->c, xml.toUtf8().constData(), 0)};
    if (!dom.d)
        return ApiError::internal(lastError("starting a sandbox VM"));
    // virDomainCreateXML takes ~0.5 s. Far longer means libvirtd is re-probing QEMU on every
    // capabilities lookup (measured: 68 s per VM, 4 s per probe). The known cause: /dev/kvm
    // exists but its permissions (root:root 0600 where no udev ran) hide it from the QEMU user,
    // while the probe itself saw KVM, so libvirt's cache never validates. The fix is on the
    // host: `chgrp kvm /dev/kvm && chmod 0660 /dev/kvm` (what udev's rule does).
    if (const qint64 ms = clock.elapsed(); ms > 5000)
        qCWarning(lcLibvirt).noquote()
            << QStringLiteral("libvirt took %1 ms to start a VM. If /dev/kvm exists, check that it is group `kvm`, "
                              "mode 0660 (libvirtd re-probes QEMU on every call when the QEMU user cannot open it); "
                              "libvirtd's debug log shows \"KVM was enabled when probing\" in that case.")
                   .arg(ms);
    return Ok{};
}

Status LibvirtHost::destroyDomainBlocking(const QString &name)
{
    auto conn = connection();
    if (!conn)
        return conn.error();
    DomainRef dom{virDomainLookupByName(conn->c, name.toUtf8().constData())};
    if (!dom.d)
        return Ok{};
    if (virDomainDestroy(dom.d) < 0) {
        virErrorPtr e = virGetLastError();
        if (e && (e->code == VIR_ERR_NO_DOMAIN || e->code == VIR_ERR_OPERATION_INVALID))
            return Ok{};
        return ApiError::internal(lastError("destroying a sandbox VM"));
    }
    // Persistent leftovers (a managed save image, a defined domain) go too.
    if (virDomainIsPersistent(dom.d) == 1)
        virDomainUndefineFlags(dom.d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE);
    return Ok{};
}

Status LibvirtHost::suspendBlocking(const QString &name)
{
    auto conn = connection();
    if (!conn)
        return conn.error();
    DomainRef dom{virDomainLookupByName(conn->c, name.toUtf8().constData())};
    if (!dom.d || virDomainSuspend(dom.d) < 0)
        return ApiError::internal(lastError("pausing a sandbox VM"));
    return Ok{};
}

Status LibvirtHost::resumeBlocking(const QString &name)
{
    auto conn = connection();
    if (!conn)
        return conn.error();
    DomainRef dom{virDomainLookupByName(conn->c, name.toUtf8().constData())};
    if (!dom.d || virDomainResume(dom.d) < 0)
        return ApiError::internal(lastError("resuming a sandbox VM"));
    return Ok{};
}

Status LibvirtHost::saveBlocking(const QString &name, const QString &file)
{
    auto conn = connection();
    if (!conn)
        return conn.error();
    DomainRef dom{virDomainLookupByName(conn->c, name.toUtf8().constData())};
    if (!dom.d || virDomainSave(dom.d, file.toUtf8().constData()) < 0)
        return ApiError::internal(lastError("saving a sandbox VM"));
    return Ok{};
}

Status LibvirtHost::restoreBlocking(const QString &file)
{
    auto conn = connection();
    if (!conn)
        return conn.error();
    // Running even when it was saved paused: a restored sandbox is one that is being used.
    if (virDomainRestoreFlags(conn->c, file.toUtf8().constData(), nullptr, VIR_DOMAIN_SAVE_RUNNING) < 0)
        return ApiError::internal(lastError("restoring a sandbox VM"));
    return Ok{};
}

namespace {
std::atomic<int> listDelayMs{0};
} // namespace

void setLibvirtListDelayForTests(int ms)
{
    listDelayMs = ms;
}

Result<QList<LibvirtHost::DomainInfo>> LibvirtHost::listBlocking(const QString &namePrefix)
{
    auto conn = connection();
    if (!conn)
        return conn.error();
    virDomainPtr *domains = nullptr;
    const int n = virConnectListAllDomains(conn->c, &domains, 0);
    if (n < 0)
        return ApiError::internal(lastError("listing VMs"));
    if (const int delay = listDelayMs.load(); delay > 0)
        QThread::msleep(delay);
    QList<DomainInfo> out;
    for (int i = 0; i < n; ++i) {
        const QString name = QString::fromUtf8(virDomainGetName(domains[i]));
        if (name.startsWith(namePrefix)) {
            DomainInfo info;
            info.name = name;
            int reason = 0;
            if (virDomainGetState(domains[i], &info.state, &reason, 0) < 0)
                info.state = VIR_DOMAIN_NOSTATE;
            out << info;
        }
        virDomainFree(domains[i]);
    }
    free(domains);
    return out;
}

} // namespace viv
