#include "WorkspaceResources.h"

#include "SandboxManager.h"
#include "services/FileService.h"

#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTimer>

Q_LOGGING_CATEGORY(lcResources, "vivarium.sandbox.resources")

namespace viv {

namespace {
const QString kType = QStringLiteral("type");
const QString kMountPath = QStringLiteral("mount_path");

QString describe(const QJsonObject &r)
{
    if (r.value(kType).toString() == u"file")
        return QStringLiteral("file %1").arg(r.value(QStringLiteral("file_id")).toString());
    if (r.value(kType).toString() == u"skill")
        return QStringLiteral("skill %1").arg(r.value(QStringLiteral("name")).toString());
    if (r.value(kType).toString() == u"memory_store")
        return QStringLiteral("memory store %1").arg(r.value(QStringLiteral("memory_store_id")).toString());
    return QStringLiteral("repository %1").arg(r.value(QStringLiteral("url")).toString());
}
} // namespace

struct WorkspaceResources::Run
{
    QString sandboxId;
    QJsonArray resources;
    qsizetype index = -1;
    std::function<void(QList<Failure>)> done;
    QList<Failure> failures;
    quint64 step = 0; // bumps per resource: callbacks of an abandoned resource stop
    std::unique_ptr<QTemporaryDir> temp;
    QPointer<QProcess> process;
    bool finished = false;
    QString current; // description of the resource in progress, for errors
    TokenSource tokens;
};

WorkspaceResources::WorkspaceResources(SandboxManager &sandboxes, FileService &files, QObject *parent)
    : QObject(parent), m_sandboxes(sandboxes), m_files(files)
{
}

WorkspaceResources::~WorkspaceResources() = default;

void WorkspaceResources::materialise(const QString &sandboxId, const QJsonArray &resources,
                                     std::function<void(QList<Failure>)> done, TokenSource tokens)
{
    auto run = std::make_shared<Run>();
    run->sandboxId = sandboxId;
    run->resources = resources;
    run->done = std::move(done);
    run->tokens = std::move(tokens);
    next(run);
}

QPair<QString, QByteArray> WorkspaceResources::authConfig(const QString &url, const QByteArray &token)
{
    // GitHub's form for a token over HTTPS basic auth (what actions/checkout sends too).
    const QByteArray credentials = QByteArrayLiteral("x-access-token:") + token;
    return {QStringLiteral("http.%1.extraHeader").arg(url),
            QByteArray(QByteArrayLiteral("Authorization: Basic ") + credentials.toBase64())};
}

void WorkspaceResources::next(const std::shared_ptr<Run> &run)
{
    if (run->finished)
        return;
    run->temp.reset();
    ++run->step;
    if (++run->index >= run->resources.size()) {
        run->finished = true;
        return run->done(run->failures);
    }
    const QJsonObject r = run->resources.at(run->index).toObject();
    run->current = describe(r);
    if (r.value(kMountPath).toString().isEmpty())
        return fail(run, QStringLiteral("it has no mount_path"));
    if (r.value(kType).toString() == u"file")
        putFile(run, r);
    else if (r.value(kType).toString() == u"github_repository")
        putRepository(run, r);
    else if (r.value(kType).toString() == u"skill")
        putSkill(run, r, 0);
    else if (r.value(kType).toString() == u"memory_store")
        putMemoryStore(run, r, -1);
    else
        fail(run, QStringLiteral("resources of type %1 cannot be put into a sandbox").arg(r.value(kType).toString()));
}

void WorkspaceResources::fail(const std::shared_ptr<Run> &run, const QString &message, const QString &errorType)
{
    if (run->finished)
        return;
    const QJsonObject r = run->resources.at(run->index).toObject();
    QString type = errorType;
    if (type.isEmpty() && r.value(kType).toString() == u"github_repository") {
        // git's own words tell a missing repository from other clone failures.
        static const QRegularExpression missing(QStringLiteral(
            "not found|does not appear to be a git repository|does not exist|returned error: 404"),
            QRegularExpression::CaseInsensitiveOption);
        if (message.contains(QStringLiteral("Remote branch")))
            type = QStringLiteral("repository_checkout_error"); // the clone asked for a missing branch
        else
            type = missing.match(message).hasMatch() ? QStringLiteral("repository_not_found_error")
                                                     : QStringLiteral("repository_clone_error");
    }
    if (type.isEmpty())
        type = QStringLiteral("unknown_error");
    const QString text = QStringLiteral("cannot put %1 into the sandbox: %2").arg(run->current, message);
    qCWarning(lcResources).noquote() << text;
    run->failures.append({r, type, text});
    next(run);
}

void WorkspaceResources::putFile(const std::shared_ptr<Run> &run, const QJsonObject &resource)
{
    const QString fileId = resource.value(QStringLiteral("file_id")).toString();
    if (!m_files.exists(fileId))
        return fail(run, QStringLiteral("the file was deleted"));
    streamInto(run, m_files.blobPath(fileId), resource.value(kMountPath).toString(), [this, run] { next(run); });
}

void WorkspaceResources::runHost(const std::shared_ptr<Run> &run, const QStringList &args, const QString &what,
                                 std::function<void()> then, const QString &errorType,
                                 const QList<QPair<QString, QByteArray>> &gitConfig)
{
    auto *p = new QProcess(this);
    run->process = p;
    const quint64 step = run->step;
    p->setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GIT_TERMINAL_PROMPT"), QStringLiteral("0")); // never wait for a password
    env.insert(QStringLiteral("GIT_ASKPASS"), QStringLiteral("/bin/false"));
    env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    if (!gitConfig.isEmpty()) {
        // Appended after the configuration the backend's environment already passes to git.
        bool ok = false;
        int count = env.value(QStringLiteral("GIT_CONFIG_COUNT")).toInt(&ok);
        if (!ok || count < 0)
            count = 0;
        for (const auto &[key, value] : gitConfig) {
            env.insert(QStringLiteral("GIT_CONFIG_KEY_%1").arg(count), key);
            env.insert(QStringLiteral("GIT_CONFIG_VALUE_%1").arg(count), QString::fromUtf8(value));
            ++count;
        }
        env.insert(QStringLiteral("GIT_CONFIG_COUNT"), QString::number(count));
        env.insert(QStringLiteral("GIT_TRACE_REDACT"), QStringLiteral("1")); // traces never show the header
    }
    p->setProcessEnvironment(env);
    auto *timer = new QTimer(p);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, p, [p] { p->kill(); });
    timer->start(kCloneTimeoutMs);
    connect(p, &QProcess::finished, this, [this, run, p, what, step, errorType, then = std::move(then)](int code, QProcess::ExitStatus status) {
        p->deleteLater();
        if (run->step != step)
            return;
        const QString output = QString::fromUtf8(p->readAll()).trimmed().right(2000);
        if (status != QProcess::NormalExit || code != 0)
            return fail(run, QStringLiteral("%1 failed%2").arg(what, output.isEmpty() ? QString() : QStringLiteral(": ") + output),
                        errorType);
        then();
    });
    connect(p, &QProcess::errorOccurred, this, [this, run, p, what, step](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart || run->step != step)
            return;
        p->deleteLater();
        fail(run, QStringLiteral("%1 could not start (%2)").arg(what, p->errorString()));
    });
    p->start(args.constFirst(), args.mid(1));
}

void WorkspaceResources::putRepository(const std::shared_ptr<Run> &run, const QJsonObject &resource)
{
    if (!run->tokens)
        return cloneRepository(run, resource, {});
    // Read now, not when the run started: a token rotated meanwhile applies.
    const quint64 step = run->step;
    QPointer<WorkspaceResources> self(this);
    run->tokens(resource, [self, run, step, resource](Result<QByteArray> token) {
        if (!self || run->finished || run->step != step)
            return;
        if (!token)
            return self->fail(run, QStringLiteral("its authorization token cannot be read: %1").arg(token.error().message()),
                              QStringLiteral("repository_clone_error"));
        self->cloneRepository(run, resource, *token);
    });
}

void WorkspaceResources::cloneRepository(const std::shared_ptr<Run> &run, const QJsonObject &resource,
                                         const QByteArray &token)
{
    run->temp = std::make_unique<QTemporaryDir>();
    if (!run->temp->isValid())
        return fail(run, QStringLiteral("no temporary directory: %1").arg(run->temp->errorString()));
    const QString url = resource.value(QStringLiteral("url")).toString();
    const QJsonObject checkout = resource.value(QStringLiteral("checkout")).toObject();
    const QString dir = run->temp->filePath(QStringLiteral("repo"));
    const QString tar = run->temp->filePath(QStringLiteral("repo.tar"));
    const QString mount = resource.value(kMountPath).toString();

    QStringList clone{QStringLiteral("git"), QStringLiteral("clone"), QStringLiteral("--quiet")};
    if (checkout.value(kType).toString() == u"branch")
        clone << QStringLiteral("--branch") << checkout.value(QStringLiteral("name")).toString();
    clone << QStringLiteral("--") << url << dir;

    auto pack = [this, run, dir, tar, mount] {
        runHost(run, {QStringLiteral("tar"), QStringLiteral("-C"), dir, QStringLiteral("-cf"), tar, QStringLiteral(".")},
            QStringLiteral("packing the clone"), [this, run, tar, mount] {
                const qint64 size = QFileInfo(tar).size();
                if (size > kMaxRepositoryBytes)
                    return fail(run, QStringLiteral("the clone is %1 MiB, over the %2 MiB limit")
                                         .arg(size >> 20)
                                         .arg(kMaxRepositoryBytes >> 20));
                const QString guestTar = QStringLiteral("/tmp/vivarium-resource-%1.tar").arg(run->index);
                streamInto(run, tar, guestTar, [this, run, guestTar, mount] {
                    SandboxManager::ExecRequest req;
                    req.argv = {QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                                QStringLiteral("mkdir -p -- \"$1\" && tar -xf \"$2\" -C \"$1\"; s=$?; rm -f -- \"$2\"; exit $s"),
                                QStringLiteral("sh"), mount, guestTar};
                    req.cwd = QStringLiteral("/");
                    req.timeoutMs = kCloneTimeoutMs;
                    m_sandboxes.exec(run->sandboxId, req, [this, run](Result<SandboxManager::ExecResult> r) {
                        if (!r)
                            return fail(run, r.error().message());
                        if (r->exitCode.value_or(-1) != 0)
                            return fail(run, QStringLiteral("unpacking in the sandbox failed: %1")
                                                 .arg(QString::fromUtf8(r->stderrData).trimmed()));
                        next(run);
                    }, true);
                });
            });
    };
    QList<QPair<QString, QByteArray>> config;
    if (!token.isEmpty())
        config << authConfig(url, token);
    runHost(run, clone, QStringLiteral("git clone"), [this, run, dir, checkout, pack] {
        if (checkout.value(kType).toString() != u"commit")
            return pack();
        runHost(run, {QStringLiteral("git"), QStringLiteral("-C"), dir, QStringLiteral("checkout"), QStringLiteral("--quiet"),
                  QStringLiteral("--detach"), checkout.value(QStringLiteral("sha")).toString()},
            QStringLiteral("checking out the commit"), pack, QStringLiteral("repository_checkout_error"));
    }, {}, config);
}

void WorkspaceResources::putSkill(const std::shared_ptr<Run> &run, const QJsonObject &resource, qsizetype file)
{
    const QJsonArray files = resource.value(QStringLiteral("files")).toArray();
    if (file >= files.size())
        return next(run);
    const QJsonObject f = files.at(file).toObject();
    const QString guestPath = resource.value(kMountPath).toString() + u'/' + f.value(QStringLiteral("path")).toString();
    streamInto(run, f.value(QStringLiteral("local")).toString(), guestPath,
               [this, run, resource, file] { putSkill(run, resource, file + 1); });
}

void WorkspaceResources::putMemoryStore(const std::shared_ptr<Run> &run, const QJsonObject &resource, qsizetype memory)
{
    const QString root = resource.value(kMountPath).toString();
    const QJsonArray memories = resource.value(QStringLiteral("memories")).toArray();
    if (memory >= memories.size())
        return next(run);
    QJsonObject req;
    QString guestPath = root;
    if (memory < 0) { // the folder first, so an empty store is an empty folder
        req = {{QStringLiteral("op"), QStringLiteral("mkdir")}, {QStringLiteral("path"), root}};
    } else {
        const QJsonObject m = memories.at(memory).toObject();
        guestPath = root + m.value(QStringLiteral("path")).toString();
        req = {{QStringLiteral("op"), QStringLiteral("write")},
               {QStringLiteral("path"), guestPath},
               {QStringLiteral("data"), QString::fromLatin1(m.value(QStringLiteral("content")).toString().toUtf8().toBase64())},
               {QStringLiteral("append"), false}};
    }
    QPointer<WorkspaceResources> self(this);
    const quint64 step = run->step;
    m_sandboxes.call(
        run->sandboxId, req,
        [self, run, step, resource, memory, guestPath](const Result<QJsonObject> &r) {
            if (!self || run->finished || run->step != step)
                return;
            if (!r)
                return self->fail(run, QStringLiteral("writing %1 failed: %2").arg(guestPath, r.error().message()));
            self->putMemoryStore(run, resource, memory + 1);
        },
        true);
}

void WorkspaceResources::lockReadOnly(const QString &sandboxId, const QString &dir, std::function<void(QString)> done)
{
    SandboxManager::ExecRequest req;
    // Owner root, files 0444, folders 0555; then a read-only bind mount, so that not even root
    // writes there without remounting on purpose.
    req.argv = {QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                QStringLiteral("[ -d \"$1\" ] || exit 0; mountpoint -q \"$1\" && exit 0; "
                               "chown -R 0:0 -- \"$1\" && find \"$1\" -type d -exec chmod 0555 {} + && "
                               "find \"$1\" -type f -exec chmod 0444 {} + && "
                               "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\""),
                QStringLiteral("sh"), dir};
    req.cwd = QStringLiteral("/");
    req.timeoutMs = 60 * 1000;
    m_sandboxes.exec(sandboxId, req, [done = std::move(done)](Result<SandboxManager::ExecResult> r) {
        if (!r)
            return done(r.error().message());
        if (r->exitCode.value_or(-1) != 0)
            return done(QString::fromUtf8(r->stderrData).trimmed());
        done({});
    }, true);
}

void WorkspaceResources::streamInto(const std::shared_ptr<Run> &run, const QString &localPath,
                                    const QString &guestPath, std::function<void()> then)
{
    auto file = std::make_shared<QFile>(localPath);
    if (!file->open(QIODevice::ReadOnly))
        return fail(run, QStringLiteral("cannot read %1: %2").arg(QFileInfo(localPath).fileName(), file->errorString()));
    // One chunk in flight at a time: memory stays at one chunk whatever the size. The step
    // holds itself only weakly; the pending agent call owns it, so it goes with the last call.
    auto step = std::make_shared<std::function<void(bool)>>();
    QPointer<WorkspaceResources> self(this);
    *step = [self, run, file, guestPath, then = std::move(then), weak = std::weak_ptr(step)](bool first) {
        auto strong = weak.lock();
        if (!self || run->finished || !strong)
            return;
        const QByteArray chunk = file->read(kChunkBytes);
        if (!first && chunk.isEmpty())
            return then();
        QJsonObject req{{QStringLiteral("op"), QStringLiteral("write")},
                        {QStringLiteral("path"), guestPath},
                        {QStringLiteral("data"), QString::fromLatin1(chunk.toBase64())},
                        {QStringLiteral("append"), !first}};
        self->m_sandboxes.call(
            run->sandboxId, req,
            [self, run, strong, guestPath](const Result<QJsonObject> &r) {
                if (!self)
                    return;
                if (!r)
                    return self->fail(run, QStringLiteral("writing %1 failed: %2").arg(guestPath, r.error().message()));
                (*strong)(false);
            },
            true);
    };
    (*step)(true);
}

} // namespace viv
