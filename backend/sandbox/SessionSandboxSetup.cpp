#include "SessionSandboxSetup.h"
#include "WorkspaceFiles.h"

#include "EnvironmentLayers.h"
#include "SandboxProgress.h"
#include "WorkspaceResources.h"
#include "runtime/Runtime.h"
#include "services/BundledSkills.h"
#include "services/EnvironmentResources.h"
#include "services/EnvironmentService.h"
#include "services/EventLog.h"
#include "services/SessionService.h"
#include "services/SkillService.h"
#include "services/MemoryMount.h"
#include "services/MemoryStoreService.h"
#include "services/CredentialBroker.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QFile>
#include <QPointer>
#include <QSet>

Q_LOGGING_CATEGORY(lcSetup, "vivarium.sandbox.setup")

namespace viv {

SessionSandboxSetup::SessionSandboxSetup(SessionService &sessions, EnvironmentService &environments, EventLog &log,
                                         RuntimeManager &runtime, EnvironmentLayers &layers,
                                         WorkspaceResources &resources, QObject *parent)
    : QObject(parent), m_sessions(sessions), m_environments(environments), m_log(log), m_runtime(runtime),
      m_layers(layers), m_resources(resources)
{
}

namespace {

// The environment's config with the apt packages of the agent's bundled document skills
// (`anthropic` xlsx/docx/pdf: python3-openpyxl, …) added to `packages.apt`, so they are installed
// in the session's cached package layer like environment packages: only sessions using such a
// skill get (and share) that layer; sessions of the same environment without one keep its own.
QJsonObject withSkillPackages(QJsonObject config, const QJsonObject &session)
{
    QStringList extra;
    for (const QJsonValue &v :
         session.value(QStringLiteral("agent")).toObject().value(QStringLiteral("skills")).toArray()) {
        const QJsonObject ref = v.toObject();
        if (ref.value(QStringLiteral("type")).toString() == u"anthropic")
            extra << bundled::aptPackages(ref.value(QStringLiteral("skill_id")).toString());
    }
    if (extra.isEmpty())
        return config;
    QJsonObject packages = config.value(QStringLiteral("packages")).toObject();
    QStringList apt;
    for (const QJsonValue &p : packages.value(QStringLiteral("apt")).toArray())
        apt << p.toString();
    extra.sort();
    for (const QString &p : std::as_const(extra))
        if (!apt.contains(p))
            apt << p;
    packages.insert(QStringLiteral("apt"), QJsonArray::fromStringList(apt));
    config.insert(QStringLiteral("packages"), packages);
    return config;
}

} // namespace

void SessionSandboxSetup::prepare(const QString &sessionId, Callback<SandboxManager::SessionSpec> done)
{
    auto session = m_sessions.retrieve(sessionId);
    if (!session)
        return done(session.error());
    const QString envId = session->value(QStringLiteral("environment_id")).toString();
    auto env = m_environments.retrieve(envId);
    if (!env)
        return done(ApiError::invalid(QStringLiteral("the session's environment %1 is gone: %2").arg(envId, env.error().message())));
    // The sandbox's egress policy: the environment's networking and, for allow_mcp_servers,
    // the session's agent's MCP server URLs.
    SandboxManager::SessionSpec base;
    base.networking = env->value(QStringLiteral("config")).toObject().value(QStringLiteral("networking")).toObject();
    // The VM's size from the environment's config.resources (else the backend's default).
    const EnvironmentResources size = EnvironmentResources::of(*env);
    base.vcpus = size.cpu.value_or(0);
    base.memoryMiB = size.memoryMb.value_or(0);
    for (const QJsonValue &server : session->value(QStringLiteral("agent")).toObject().value(QStringLiteral("mcp_servers")).toArray())
        if (const QString url = server.toObject().value(QStringLiteral("url")).toString(); !url.isEmpty())
            base.mcpServerUrls << url;
    QPointer<SessionSandboxSetup> self(this);
    const QJsonArray vaultIds = session->value(QStringLiteral("vault_ids")).toArray();
    const QJsonObject config = withSkillPackages(env->value(QStringLiteral("config")).toObject(), *session);
    if (m_progress)
        m_progress->setLayer(sessionId, m_layers.status(config));
    m_layers.ensure(config, [self, sessionId, envId, base, vaultIds, done = std::move(done)](Result<QString> root) {
        if (!self)
            return;
        if (!root) {
            const QString message = QStringLiteral("The sandbox for environment %1 cannot be prepared: %2").arg(envId, root.error().message());
            qCWarning(lcSetup).noquote() << "session" << sessionId << message;
            if (self->m_progress)
                self->m_progress->layerFailed(sessionId, message);
            self->m_runtime.terminateSession(sessionId, message);
            return done(ApiError::unavailable(message));
        }
        SandboxManager::SessionSpec spec = base;
        spec.rootDisk = *root;
        self->addCredentials(sessionId, vaultIds, std::move(spec), done);
    });
}

void SessionSandboxSetup::addCredentials(const QString &sessionId, const QJsonArray &vaultIds,
                                         SandboxManager::SessionSpec spec, Callback<SandboxManager::SessionSpec> done)
{
    // Only limited sandboxes run the guest forwarder through which placeholders are replaced.
    if (!m_credentials || spec.networking.value(QStringLiteral("type")).toString() != u"limited")
        return done(spec);
    QPointer<SessionSandboxSetup> self(this);
    m_credentials->egressSecrets(
        sessionId, vaultIds,
        [self, spec = std::move(spec), done = std::move(done)](QList<CredentialBroker::EgressSecret> secrets) mutable {
            if (!self)
                return;
            for (CredentialBroker::EgressSecret &e : secrets) {
                ProxyCredential pc;
                pc.name = e.name;
                pc.secret = std::move(e.secret);
                pc.hosts = e.hosts;
                pc.inHeaders = e.inHeaders;
                pc.inBody = e.inBody;
                spec.credentials << pc;
            }
            done(std::move(spec));
        });
}

namespace {

QSet<QString> readRecord(const QString &record)
{
    QSet<QString> ids;
    QFile f(record);
    if (f.open(QIODevice::ReadOnly))
        for (const QByteArray &line : f.readAll().split('\n'))
            if (!line.trimmed().isEmpty())
                ids.insert(QString::fromUtf8(line.trimmed()));
    return ids;
}

// The skills of the session's agent (versions resolved at session start) as `skill`
// pseudo-resources for WorkspaceResources, recorded in the workspace's record like resources
// (id "skill:<version id>"): each skill's files under SkillService::mountPath(name).
QJsonArray skillResources(SkillService *skills, const QJsonObject &session)
{
    QJsonArray out;
    if (!skills)
        return out;
    const QJsonArray refs = session.value(QStringLiteral("agent")).toObject().value(QStringLiteral("skills")).toArray();
    for (const QJsonValue &v : refs) {
        const QJsonObject ref = v.toObject();
        auto loaded = skills->loadReference(ref);
        if (!loaded) {
            qCWarning(lcSetup).noquote() << "skill" << ref.value(QStringLiteral("skill_id")).toString()
                                         << "cannot be put into the sandbox:" << loaded.error().message();
            continue;
        }
        QJsonArray files;
        for (const auto &f : std::as_const(loaded->files))
            files.append(QJsonObject{{QStringLiteral("path"), f.first}, {QStringLiteral("local"), f.second}});
        out.append(QJsonObject{{QStringLiteral("id"), QString(QStringLiteral("skill:") + loaded->versionId)},
                               {QStringLiteral("type"), QStringLiteral("skill")},
                               {QStringLiteral("name"), loaded->name},
                               {QStringLiteral("mount_path"), SkillService::mountPath(loaded->name)},
                               {QStringLiteral("files"), files}});
    }
    return out;
}

bool appendRecord(const QString &record, const QStringList &ids)
{
    QFile f(record);
    if (!f.open(QIODevice::Append))
        return false;
    for (const QString &id : ids)
        f.write(id.toUtf8() + '\n');
    return f.flush();
}

} // namespace

bool SessionSandboxSetup::hasNewResources(const QJsonObject &session, const QString &record)
{
    const QJsonArray resources = session.value(QStringLiteral("resources")).toArray();
    if (resources.isEmpty())
        return false;
    const QSet<QString> done = readRecord(record);
    for (const QJsonValue &r : resources)
        if (!done.contains(r.toObject().value(QStringLiteral("id")).toString()))
            return true;
    return false;
}

void SessionSandboxSetup::populate(const QString &sessionId, const QString &sandboxId, bool newWorkspace,
                                   const QString &record, std::function<void()> done)
{
    auto running = m_populating.find(sessionId);
    if (running != m_populating.end()) {
        // One at a time: this call's resources are looked at again once the running one ends.
        running->append([this, sessionId, sandboxId, record, done = std::move(done)]() mutable {
            populate(sessionId, sandboxId, false, record, std::move(done));
        });
        return;
    }
    m_populating.insert(sessionId, {});
    auto finish = [self = QPointer<SessionSandboxSetup>(this), sessionId, done = std::move(done)] {
        if (self) {
            const auto queued = self->m_populating.take(sessionId);
            for (const auto &q : queued)
                q();
        }
        done();
    };
    populateNow(sessionId, sandboxId, newWorkspace, record, std::move(finish));
}

void SessionSandboxSetup::mountMemory(const QString &sessionId, const QString &sandboxId, const QJsonArray &stores,
                                      bool readOnlyPass, std::function<void()> then)
{
    // First pass (before the resources are written): each store's folder on the workspace disk,
    // bind-mounted at its mount_path (again after a cold boot; a no-op while mounted). Second
    // pass: the read_only ones root-owned, 0444/0555, and remounted read-only.
    QStringList args{QStringLiteral("sh")};
    for (const QJsonValue &v : stores) {
        const QJsonObject r = v.toObject();
        const QString mount = r.value(QStringLiteral("mount_path")).toString();
        const bool ro = r.value(QStringLiteral("access")).toString() == u"read_only";
        if (readOnlyPass && !ro)
            continue;
        args << QString::fromLatin1(memorymount::kWorkspaceDir) + u'/' + mount.section(u'/', -1) << mount;
    }
    if (args.size() == 1)
        return then();
    const QString bind = QStringLiteral(
        "while [ $# -gt 0 ]; do mkdir -p -- \"$1\" \"$2\" || exit 1; "
        "mountpoint -q \"$2\" || mount --bind \"$1\" \"$2\" || exit 1; shift 2; done");
    const QString lock = QStringLiteral(
        "while [ $# -gt 0 ]; do if ( : > \"$2/.vivarium-ro-probe\" ) 2>/dev/null; then "
        "rm -f -- \"$2/.vivarium-ro-probe\"; chown -R 0:0 -- \"$2\" && find \"$2\" -type d -exec chmod 0555 {} + && "
        "find \"$2\" -type f -exec chmod 0444 {} + && mount -o remount,bind,ro \"$2\" || exit 1; fi; shift 2; done");
    SandboxManager::ExecRequest req;
    req.argv = QStringList{QStringLiteral("/bin/sh"), QStringLiteral("-c"), readOnlyPass ? lock : bind} + args;
    req.cwd = QStringLiteral("/");
    req.timeoutMs = 60 * 1000;
    QPointer<SessionSandboxSetup> self(this);
    m_sandboxes->exec(
        sandboxId, req,
        [self, sessionId, then = std::move(then)](Result<SandboxManager::ExecResult> r) {
            QString error = !r                              ? r.error().message()
                            : r->exitCode.value_or(-1) != 0 ? QString::fromUtf8(r->stderrData).trimmed()
                                                            : QString();
            if (!error.isEmpty() && self) {
                const QString text = QStringLiteral("cannot mount the session's memory stores: %1").arg(error);
                qCWarning(lcSetup).noquote() << "session" << sessionId << text;
                QJsonObject e{{QStringLiteral("type"), QStringLiteral("unknown_error")},
                              {QStringLiteral("message"), text},
                              {QStringLiteral("retry_status"),
                               QJsonObject{{QStringLiteral("type"), QStringLiteral("retrying")}}}};
                if (auto a = self->m_log.append(sessionId,
                                                {QJsonObject{{QStringLiteral("type"), QStringLiteral("session.error")},
                                                             {QStringLiteral("error"), e}}});
                    !a)
                    qCWarning(lcSetup).noquote() << "recording that failed:" << a.error().message();
            }
            then();
        },
        true);
}

void SessionSandboxSetup::populateNow(const QString &sessionId, const QString &sandboxId, bool newWorkspace,
                                      const QString &record, std::function<void()> finish)
{
    auto session = m_sessions.retrieve(sessionId);
    QJsonArray all = session ? session->value(QStringLiteral("resources")).toArray() : QJsonArray();
    QJsonArray stores;
    for (const QJsonValue &v : std::as_const(all)) {
        if (v.toObject().value(QStringLiteral("type")).toString() == u"memory_store")
            stores.append(v);
    }
    if (!stores.isEmpty() && m_sandboxes) {
        // The memory folders are mounted before anything is written into them, and the
        // read_only ones locked after.
        finish = [self = QPointer<SessionSandboxSetup>(this), sessionId, sandboxId, stores, finish = std::move(finish)] {
            if (!self)
                return finish();
            self->mountMemory(sessionId, sandboxId, stores, true, finish);
        };
        return mountMemory(sessionId, sandboxId, stores, false,
                           [self = QPointer<SessionSandboxSetup>(this), sessionId, sandboxId, newWorkspace, record,
                            all, finish = std::move(finish)]() mutable {
                               if (!self)
                                   return finish();
                               self->populateResources(sessionId, sandboxId, newWorkspace, record, all, std::move(finish));
                           });
    }
    populateResources(sessionId, sandboxId, newWorkspace, record, all, std::move(finish));
}

void SessionSandboxSetup::populateResources(const QString &sessionId, const QString &sandboxId, bool newWorkspace,
                                            const QString &record, QJsonArray all, std::function<void()> finish)
{
    auto session = m_sessions.retrieve(sessionId);
    const QJsonArray skills = session ? skillResources(m_sessions.skills(), *session) : QJsonArray();
    for (const QJsonValue &s : skills)
        all.append(s);
    if (!skills.isEmpty()) {
        // Once the skills are in: their folder read-only (again after a VM booted afresh on this
        // workspace; a no-op while the mount is there).
        finish = [self = QPointer<SessionSandboxSetup>(this), sessionId, sandboxId, finish = std::move(finish)] {
            if (!self)
                return finish();
            self->m_resources.lockReadOnly(
                sandboxId, SkillService::kMountRoot.toString(), [self, sessionId, finish](const QString &error) {
                    if (!error.isEmpty() && self) {
                        const QString text = QStringLiteral("cannot make the skills in %1 read-only: %2")
                                                 .arg(SkillService::kMountRoot.toString(), error);
                        qCWarning(lcSetup).noquote() << "session" << sessionId << text;
                        QJsonObject e{{QStringLiteral("type"), QStringLiteral("unknown_error")},
                                      {QStringLiteral("message"), text},
                                      {QStringLiteral("retry_status"), QJsonObject{{QStringLiteral("type"), QStringLiteral("retrying")}}}};
                        const QList<QJsonObject> events{QJsonObject{{QStringLiteral("type"), QStringLiteral("session.error")},
                                                                    {QStringLiteral("error"), e}}};
                        if (auto r = self->m_log.append(sessionId, events); !r)
                            qCWarning(lcSetup).noquote() << "recording that failed:" << r.error().message();
                    }
                    finish();
                });
        };
    }
    if (!newWorkspace && !QFile::exists(record)) {
        // A workspace made before the record existed got its resources when it was created.
        QStringList ids;
        for (const QJsonValue &r : all)
            ids << r.toObject().value(QStringLiteral("id")).toString();
        if (!appendRecord(record, ids))
            qCWarning(lcSetup).noquote() << "cannot write" << record;
        return finish();
    }
    const QSet<QString> done = readRecord(record);
    QJsonArray fresh;
    QStringList freshIds;
    // The memory stores written now, with the baseline (path → sha256) that goes next to the
    // workspace disk once they are in (sandbox/MemoryMountSync diffs against it).
    QList<QPair<QString, memorymount::Baseline>> baselines;
    const QString disk = workspace::diskOfResourceRecord(record);
    for (const QJsonValue &r : all) {
        QJsonObject o = r.toObject();
        const QString id = o.value(QStringLiteral("id")).toString();
        if (!done.contains(id)) {
            if (o.value(QStringLiteral("type")).toString() == u"memory_store") {
                const QString storeId = o.value(QStringLiteral("memory_store_id")).toString();
                QJsonArray memories;
                memorymount::Baseline base;
                if (auto *ms = m_sessions.memoryStores()) {
                    for (const auto &m : ms->allMemories(storeId)) {
                        memories.append(QJsonObject{{QStringLiteral("path"), m.path}, {QStringLiteral("content"), m.content}});
                        base.insert(m.path, QString::fromLatin1(
                                                QCryptographicHash::hash(m.content.toUtf8(), QCryptographicHash::Sha256).toHex()));
                    }
                }
                o.insert(QStringLiteral("memories"), memories);
                baselines.append({workspace::memoryBaseline(disk, storeId), base});
            }
            fresh.append(o);
            freshIds << id;
        }
    }
    if (fresh.isEmpty()) {
        if (newWorkspace && !QFile::exists(record))
            appendRecord(record, {}); // an empty record: later resources are new ones
        return finish();
    }
    QPointer<SessionSandboxSetup> self(this);
    // A repository's token is read from the keychain when its clone starts (never stored here).
    QPointer<SessionService> sessions(&m_sessions);
    auto tokens = [sessions](const QJsonObject &resource, Callback<QByteArray> answer) {
        if (!sessions)
            return answer(ApiError::unavailable(QStringLiteral("the backend is shutting down")));
        sessions->readResourceToken(resource.value(QStringLiteral("id")).toString(), std::move(answer));
    };
    m_resources.materialise(sandboxId, fresh, [self, sessionId, record, freshIds, baselines, finish](QList<WorkspaceResources::Failure> failures) {
        for (const auto &b : baselines) {
            if (const QString e = memorymount::saveBaseline(b.first, b.second); !e.isEmpty())
                qCWarning(lcSetup).noquote() << "cannot write" << b.first << ":" << e;
        }
        // Failed ones are recorded too: each failure is reported once, not at every claim.
        if (!appendRecord(record, freshIds))
            qCWarning(lcSetup).noquote() << "cannot write" << record;
        if (self && !failures.isEmpty()) {
            QList<QJsonObject> events;
            for (const auto &f : std::as_const(failures)) {
                QJsonObject error{{QStringLiteral("type"), f.errorType},
                                  {QStringLiteral("message"), f.message},
                                  {QStringLiteral("retry_status"), QJsonObject{{QStringLiteral("type"), QStringLiteral("retrying")}}}};
                if (f.errorType.startsWith(QStringLiteral("repository_")))
                    error.insert(QStringLiteral("repository_url"), f.resource.value(QStringLiteral("url")));
                events.append({{QStringLiteral("type"), QStringLiteral("session.error")}, {QStringLiteral("error"), error}});
            }
            if (auto r = self->m_log.append(sessionId, events); !r)
                qCWarning(lcSetup).noquote() << "recording resource failures of session" << sessionId
                                             << "failed:" << r.error().message();
        }
        finish();
    }, tokens);
}

} // namespace viv
