#include "SessionOutputs.h"

#include "SandboxManager.h"
#include "services/FileService.h"

#include <QJsonObject>
#include <QLoggingCategory>
#include <QPointer>

Q_LOGGING_CATEGORY(lcOutputs, "vivarium.sandbox.outputs")

namespace viv {

namespace {

// Lists the regular files under the outputs folder, NUL-separated: "!<size> <path>" for files
// over the limit (not hashed), else sha256sum's "<hash>  <path>". Paths are relative to the
// folder; -xdev keeps out anything mounted below it, find never follows symbolic links.
QString listScript(qint64 maxBytes, int maxFiles)
{
    return QStringLiteral("cd \"$1\" 2>/dev/null || exit 0; "
                          "find . -xdev -type f -size +%1c -printf '!%s %P\\0'; "
                          "find . -xdev -type f -size -%2c -printf '%P\\0' | head -z -n %3 | "
                          "xargs -0 -r sha256sum -z --")
        .arg(maxBytes)
        .arg(maxBytes + 1)
        .arg(maxFiles + 1);
}

} // namespace

struct SessionOutputs::Run
{
    QString sessionId;
    QString sandboxId;
    struct Entry
    {
        QString path; // relative to kDir
        QString sha256;
    };
    QList<Entry> todo;
    int index = -1;
    QByteArray bytes;
    int stored = 0;
    int unchanged = 0;
    int skipped = 0;
    std::function<void(int)> done;
};

SessionOutputs::SessionOutputs(SandboxManager &sandboxes, FileService &files, QObject *parent)
    : QObject(parent), m_sandboxes(sandboxes), m_files(files)
{
}

void SessionOutputs::onSessionChanged(const QString &sessionId, const QJsonObject &doc)
{
    const QString status = doc.value(QStringLiteral("status")).toString();
    const QString before = m_lastStatus.value(sessionId);
    if (!doc.value(QStringLiteral("archived_at")).isNull() && doc.contains(QStringLiteral("archived_at"))) {
        forget(sessionId);
        return;
    }
    m_lastStatus.insert(sessionId, status);
    if (status == u"idle" && before != u"idle")
        capture(sessionId);
}

void SessionOutputs::forget(const QString &sessionId)
{
    m_lastStatus.remove(sessionId);
    m_dirReady.remove(sessionId);
}

void SessionOutputs::ensureDir(const QString &sessionId, const QString &sandboxId, std::function<void()> then)
{
    if (m_dirReady.value(sessionId) == sandboxId)
        return then();
    QPointer<SessionOutputs> self(this);
    m_sandboxes.call(
        sandboxId,
        QJsonObject{{QStringLiteral("op"), QStringLiteral("mkdir")},
                    {QStringLiteral("path"), QString::fromLatin1(kDir)}},
        [self, sessionId, sandboxId, then = std::move(then)](const Result<QJsonObject> &r) {
            if (self) {
                if (r)
                    self->m_dirReady.insert(sessionId, sandboxId);
                else
                    qCWarning(lcOutputs).noquote()
                        << "session" << sessionId << "cannot create" << kDir << "in its VM:" << r.error().message();
            }
            then();
        },
        true);
}

void SessionOutputs::capture(const QString &sessionId, std::function<void(int)> done)
{
    auto running = m_running.find(sessionId);
    if (running != m_running.end()) {
        running.value() = true; // once more when this one ends
        if (done)
            done(0);
        return;
    }
    const QString sbx = m_sandboxes.sandboxForSession(sessionId);
    const auto info = m_sandboxes.get(sbx);
    if (sbx.isEmpty() || !info || info->state != SandboxManager::State::Running) {
        if (done)
            done(0);
        return;
    }
    m_running.insert(sessionId, false);
    auto run = std::make_shared<Run>();
    run->sessionId = sessionId;
    run->sandboxId = sbx;
    run->done = std::move(done);
    listFiles(run);
}

void SessionOutputs::listFiles(const std::shared_ptr<Run> &run)
{
    SandboxManager::ExecRequest req;
    req.argv = {QStringLiteral("/bin/sh"), QStringLiteral("-c"), listScript(FileService::kMaxFileBytes, kMaxFiles),
                QStringLiteral("sh"), QString::fromLatin1(kDir)};
    req.cwd = QStringLiteral("/");
    req.timeoutMs = 5 * 60 * 1000;
    req.maxOutput = 4 * 1024 * 1024;
    QPointer<SessionOutputs> self(this);
    m_sandboxes.exec(run->sandboxId, req, [self, run](Result<SandboxManager::ExecResult> r) {
        if (!self)
            return;
        if (!r || r->exitCode.value_or(-1) != 0 || r->timedOut) {
            const QString why = !r ? r.error().message()
                                   : r->timedOut ? QStringLiteral("listing the folder timed out")
                                                 : QString::fromUtf8(r->stderrData).trimmed();
            qCWarning(lcOutputs).noquote() << "session" << run->sessionId << "outputs not captured:" << why;
            return self->finish(run);
        }
        if (r->truncated)
            qCWarning(lcOutputs).noquote() << "session" << run->sessionId
                                           << "the list of outputs was truncated; the rest is captured next time";
        const QList<QByteArray> items = r->stdoutData.split('\0');
        for (const QByteArray &item : items) {
            if (item.isEmpty())
                continue;
            if (item.startsWith('!')) {
                ++run->skipped;
                qCWarning(lcOutputs).noquote() << "session" << run->sessionId << "output"
                                               << QString::fromLatin1(kDir) + u'/' + QString::fromUtf8(item.mid(item.indexOf(' ') + 1)) << "is"
                                               << item.mid(1, item.indexOf(' ') - 1) << "bytes; the limit is"
                                               << FileService::kMaxFileBytes << "bytes: not captured";
                continue;
            }
            // "<64 hex>  <path>"
            if (item.size() < 67 || item.at(64) != ' ' || item.at(65) != ' ')
                continue;
            if (run->todo.size() >= kMaxFiles) {
                ++run->skipped;
                continue;
            }
            run->todo.append({QString::fromUtf8(item.mid(66)), QString::fromLatin1(item.left(64))});
        }
        if (run->skipped > 0 && run->todo.size() >= kMaxFiles)
            qCWarning(lcOutputs).noquote() << "session" << run->sessionId << "has more than" << kMaxFiles
                                           << "output files; only" << kMaxFiles << "are captured";
        self->next(run);
    });
}

void SessionOutputs::next(const std::shared_ptr<Run> &run)
{
    while (++run->index < run->todo.size()) {
        const auto &e = run->todo.at(run->index);
        const QString name = e.path.section(u'/', -1);
        // Unchanged since an earlier capture (same name, same bytes): nothing to read.
        if (m_files.hasSessionOutput(run->sessionId, name, e.sha256)) {
            ++run->unchanged;
            continue;
        }
        run->bytes.clear();
        return readChunk(run);
    }
    finish(run);
}

void SessionOutputs::readChunk(const std::shared_ptr<Run> &run)
{
    const auto &e = run->todo.at(run->index);
    const QString path = QString::fromLatin1(kDir) + u'/' + e.path;
    QPointer<SessionOutputs> self(this);
    m_sandboxes.call(
        run->sandboxId,
        QJsonObject{{QStringLiteral("op"), QStringLiteral("read")},
                    {QStringLiteral("path"), path},
                    {QStringLiteral("offset"), qint64(run->bytes.size())},
                    {QStringLiteral("limit"), kChunkBytes}},
        [self, run, path](Result<QJsonObject> r) {
            if (!self)
                return;
            if (!r) {
                ++run->skipped;
                qCWarning(lcOutputs).noquote() << "session" << run->sessionId << "cannot read output" << path << ":"
                                               << r.error().message();
                return self->next(run);
            }
            run->bytes += QByteArray::fromBase64(r->value(QStringLiteral("data")).toString().toLatin1());
            if (run->bytes.size() > FileService::kMaxFileBytes) {
                ++run->skipped;
                qCWarning(lcOutputs).noquote() << "session" << run->sessionId << "output" << path
                                               << "grew past the limit of" << FileService::kMaxFileBytes
                                               << "bytes: not captured";
                run->bytes.clear();
                return self->next(run);
            }
            if (!r->value(QStringLiteral("eof")).toBool())
                return self->readChunk(run);
            auto c = self->m_files.captureSessionOutput(run->sessionId, path.section(u'/', -1), run->bytes);
            run->bytes.clear();
            if (!c) {
                ++run->skipped;
                qCWarning(lcOutputs).noquote() << "session" << run->sessionId << "cannot store output" << path << ":"
                                               << c.error().message();
            } else if (c->stored) {
                ++run->stored;
                qCInfo(lcOutputs).noquote() << "session" << run->sessionId << "output" << path << "stored as"
                                            << c->file.value(QStringLiteral("id")).toString();
            } else {
                ++run->unchanged;
            }
            self->next(run);
        });
}

void SessionOutputs::finish(const std::shared_ptr<Run> &run)
{
    if (run->stored > 0 || run->skipped > 0)
        qCInfo(lcOutputs).noquote() << "session" << run->sessionId << "outputs captured:" << run->stored << "stored,"
                                    << run->unchanged << "unchanged," << run->skipped << "skipped";
    Q_EMIT captured(run->sessionId, run->stored, run->unchanged, run->skipped);
    const bool again = m_running.take(run->sessionId);
    if (run->done)
        run->done(run->stored);
    if (again)
        capture(run->sessionId);
}

} // namespace viv
