#include "MemoryMountSync.h"
#include "WorkspaceFiles.h"

#include "SandboxManager.h"
#include "services/EventLog.h"
#include "services/MemoryMount.h"
#include "services/MemoryStoreService.h"
#include "services/SessionService.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QPointer>
#include <QStringDecoder>

Q_LOGGING_CATEGORY(lcMemorySync, "vivarium.sandbox.memory")

namespace viv {

namespace {

// The regular files under the mount, NUL-separated: "!<size> <path>" for files over the memory
// size limit (not hashed), else sha256sum's "<hash>  <path>" (the same form as SessionOutputs).
QString listScript(qint64 maxBytes, int maxFiles)
{
    return QStringLiteral("cd \"$1\" 2>/dev/null || exit 0; "
                          "find . -xdev -type f -size +%1c -printf '!%s %P\\0'; "
                          "find . -xdev -type f -size -%2c -printf '%P\\0' | head -z -n %3 | "
                          "xargs -0 -r sha256sum -z --")
        .arg(maxBytes)
        .arg(maxBytes + 1)
        .arg(maxFiles);
}

} // namespace

struct MemoryMountSync::Run
{
    QString sessionId;
    QString sandboxId;
    QString disk;
    QList<QJsonObject> stores;
    qsizetype store = -1;
    // The store in progress.
    QString storeId;
    QString mount;
    QString baselineFile;
    memorymount::Baseline baseline;
    memorymount::Listing listing;
    QStringList writes;
    QStringList removes;
    int written = 0;
    int removed = 0;
    int refused = 0;
    std::function<void()> done;
};

MemoryMountSync::MemoryMountSync(SandboxManager &sandboxes, SessionService &sessions, MemoryStoreService &stores,
                                 EventLog &log, QObject *parent)
    : QObject(parent), m_sandboxes(sandboxes), m_sessions(sessions), m_stores(stores), m_log(log)
{
}

void MemoryMountSync::onSessionChanged(const QString &sessionId, const QJsonObject &doc)
{
    const QString status = doc.value(QStringLiteral("status")).toString();
    const QString before = m_lastStatus.value(sessionId);
    m_lastStatus.insert(sessionId, status);
    if (status == u"running" && before != u"running")
        m_settled.remove(sessionId); // a new turn: the next idle needs a settle (or a sync) again
    if (status == u"idle" && before != u"idle" && !m_settled.remove(sessionId))
        sync(sessionId);
}

void MemoryMountSync::settle(const QString &sessionId, std::function<void()> done)
{
    m_settled.insert(sessionId);
    sync(sessionId, std::move(done));
}

void MemoryMountSync::forget(const QString &sessionId)
{
    m_lastStatus.remove(sessionId);
    m_refused.remove(sessionId);
    m_settled.remove(sessionId);
}

void MemoryMountSync::sync(const QString &sessionId, std::function<void()> done)
{
    auto running = m_running.find(sessionId);
    if (running != m_running.end()) {
        // The sync under way may have listed the mounts before the latest writes: one more
        // after it, and `done` waits for that one.
        running->again = true;
        if (done)
            running->waiters.append(std::move(done));
        return;
    }
    const QString sbx = m_sandboxes.sandboxForSession(sessionId);
    const auto info = m_sandboxes.get(sbx);
    auto session = m_sessions.retrieve(sessionId);
    auto run = std::make_shared<Run>();
    if (session) {
        for (const QJsonValue &v : session->value(QStringLiteral("resources")).toArray()) {
            const QJsonObject r = v.toObject();
            if (r.value(QStringLiteral("type")).toString() == u"memory_store"
                && r.value(QStringLiteral("access")).toString() == u"read_write")
                run->stores.append(r);
        }
    }
    if (run->stores.isEmpty() || sbx.isEmpty() || !info || info->state != SandboxManager::State::Running) {
        if (done)
            done();
        return;
    }
    m_running.insert(sessionId, Pending{});
    run->sessionId = sessionId;
    run->sandboxId = sbx;
    run->disk = m_sandboxes.workspaceDisk(sessionId);
    run->done = std::move(done);
    nextStore(run);
}

void MemoryMountSync::nextStore(const std::shared_ptr<Run> &run)
{
    if (++run->store >= run->stores.size())
        return finish(run);
    const QJsonObject r = run->stores.at(run->store);
    run->storeId = r.value(QStringLiteral("memory_store_id")).toString();
    run->mount = r.value(QStringLiteral("mount_path")).toString();
    run->baselineFile = workspace::memoryBaseline(run->disk, run->storeId);
    if (const QString e = memorymount::loadBaseline(run->baselineFile, &run->baseline); !e.isEmpty()) {
        qCWarning(lcMemorySync).noquote() << "session" << run->sessionId << "memory store" << run->storeId
                                          << "not synced:" << e;
        return nextStore(run);
    }
    SandboxManager::ExecRequest req;
    req.argv = {QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                listScript(MemoryStoreService::kMaxContentBytes, MemoryStoreService::kMaxMemoriesPerStore),
                QStringLiteral("sh"), run->mount};
    req.cwd = QStringLiteral("/");
    req.timeoutMs = 5 * 60 * 1000;
    req.maxOutput = 4 * 1024 * 1024;
    QPointer<MemoryMountSync> self(this);
    m_sandboxes.exec(run->sandboxId, req, [self, run](Result<SandboxManager::ExecResult> res) {
        if (!self)
            return;
        if (!res || res->exitCode.value_or(-1) != 0 || res->timedOut || res->truncated) {
            const QString why = !res ? res.error().message()
                                : res->timedOut ? QStringLiteral("listing the mount timed out")
                                : res->truncated ? QStringLiteral("the listing was truncated")
                                                 : QString::fromUtf8(res->stderrData).trimmed();
            // Not synced now (nothing removed on a partial view); the next idle tries again.
            qCWarning(lcMemorySync).noquote() << "session" << run->sessionId << "memory mount" << run->mount
                                              << "not synced:" << why;
            return self->nextStore(run);
        }
        run->listing = memorymount::parseListing(res->stdoutData);
        for (const QString &path : std::as_const(run->listing.oversized))
            self->refuse(run, run->mount + path,
                         QStringLiteral("it is larger than a memory may be (%1 bytes)").arg(MemoryStoreService::kMaxContentBytes));
        const auto d = memorymount::diff(run->baseline, run->listing);
        run->writes = d.write;
        run->removes = d.remove;
        self->nextChange(run);
    });
}

void MemoryMountSync::nextChange(const std::shared_ptr<Run> &run)
{
    const MemoryActor actor = MemoryActor::session(run->sessionId);
    while (!run->removes.isEmpty()) {
        const QString path = run->removes.takeFirst();
        auto r = m_stores.removeAtPath(run->storeId, path, actor);
        if (!r && r.error().kind() != ApiError::Kind::NotFound) {
            refuse(run, run->mount + path, r.error().message());
            continue;
        }
        run->baseline.remove(path);
        ++run->removed;
        if (const QString e = memorymount::saveBaseline(run->baselineFile, run->baseline); !e.isEmpty())
            qCWarning(lcMemorySync).noquote() << "cannot write" << run->baselineFile << ":" << e;
    }
    if (run->writes.isEmpty())
        return nextStore(run);
    const QString path = run->writes.takeFirst();
    const QString guestPath = run->mount + path;
    QPointer<MemoryMountSync> self(this);
    m_sandboxes.call(run->sandboxId,
                     QJsonObject{{QStringLiteral("op"), QStringLiteral("read")},
                                 {QStringLiteral("path"), guestPath},
                                 {QStringLiteral("offset"), 0},
                                 {QStringLiteral("limit"), MemoryStoreService::kMaxContentBytes + 1}},
                     [self, run, path, guestPath](Result<QJsonObject> r) {
                         if (!self)
                             return;
                         if (!r) {
                             qCWarning(lcMemorySync).noquote() << "session" << run->sessionId << "cannot read" << guestPath
                                                               << ":" << r.error().message();
                             return self->nextChange(run);
                         }
                         const QByteArray bytes = QByteArray::fromBase64(r->value(QStringLiteral("data")).toString().toLatin1());
                         const QString sha = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
                         if (sha != run->listing.files.value(path) || !r->value(QStringLiteral("eof")).toBool())
                             return self->nextChange(run); // changed since the listing: the next idle syncs it
                         QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
                         const QString content = utf8.decode(bytes);
                         if (utf8.hasError()) {
                             self->refuse(run, guestPath, QStringLiteral("memories are UTF-8 text and it is not"));
                             return self->nextChange(run);
                         }
                         auto w = self->m_stores.writeAtPath(run->storeId, path, content, MemoryActor::session(run->sessionId));
                         if (!w) {
                             self->refuse(run, guestPath, w.error().message());
                             return self->nextChange(run);
                         }
                         run->baseline.insert(path, sha);
                         ++run->written;
                         if (const QString e = memorymount::saveBaseline(run->baselineFile, run->baseline); !e.isEmpty())
                             qCWarning(lcMemorySync).noquote() << "cannot write" << run->baselineFile << ":" << e;
                         self->nextChange(run);
                     },
                     true);
}

void MemoryMountSync::refuse(const std::shared_ptr<Run> &run, const QString &guestPath, const QString &why)
{
    ++run->refused;
    // Once per content: the same file unchanged is not reported at every idle.
    const QString key = run->listing.files.value(guestPath.mid(run->mount.size()), QStringLiteral("oversized"));
    auto &seen = m_refused[run->sessionId];
    if (seen.value(guestPath) == key)
        return;
    seen.insert(guestPath, key);
    const QString text = QStringLiteral("%1 was not saved to memory store %2: %3").arg(guestPath, run->storeId, why);
    qCWarning(lcMemorySync).noquote() << "session" << run->sessionId << text;
    QJsonObject e{{QStringLiteral("type"), QStringLiteral("unknown_error")},
                  {QStringLiteral("message"), text},
                  {QStringLiteral("retry_status"), QJsonObject{{QStringLiteral("type"), QStringLiteral("exhausted")}}}};
    if (auto a = m_log.append(run->sessionId, {QJsonObject{{QStringLiteral("type"), QStringLiteral("session.error")},
                                                           {QStringLiteral("error"), e}}});
        !a)
        qCWarning(lcMemorySync).noquote() << "recording that failed:" << a.error().message();
}

void MemoryMountSync::finish(const std::shared_ptr<Run> &run)
{
    if (run->written > 0 || run->removed > 0 || run->refused > 0)
        qCInfo(lcMemorySync).noquote() << "session" << run->sessionId << "memory synced:" << run->written << "written,"
                                       << run->removed << "removed," << run->refused << "refused";
    Q_EMIT synced(run->sessionId, run->written, run->removed, run->refused);
    Pending next = m_running.take(run->sessionId);
    if (run->done)
        run->done();
    if (next.again) {
        // The waiters' done goes with the next sync (or at once when there is nothing to sync).
        auto waiters = std::make_shared<QList<std::function<void()>>>(std::move(next.waiters));
        sync(run->sessionId, [waiters] {
            for (const auto &w : std::as_const(*waiters))
                w();
        });
    }
}

} // namespace viv
