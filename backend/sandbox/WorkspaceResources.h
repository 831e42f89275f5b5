#pragma once

#include "core/Result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <memory>

class QProcess;
class QTemporaryDir;

namespace viv {

class FileService;
class SandboxManager;

// Puts a session's resources into its sandbox (issue "Sandboxes", item 9):
//  - `file`: the stored upload's bytes at `mount_path`;
//  - `skill` (not an API resource: SessionSandboxSetup makes one per skill of the session's
//    agent): `files` [{path, local}] (local = the stored blob) written under `mount_path`;
//  - `memory_store`: each memory of `memories` (inlined by SessionSandboxSetup) written at
//    `mount_path` + its path;
//  - `github_repository`: the repository cloned at `mount_path`, then the optional
//    `checkout` (branch or commit).
// Repositories are cloned on the host with git (so no credential ever enters the VM and the
// clone does not depend on the VM's network policy), packed with tar and streamed into the
// guest in chunks through the agent's `write` op, then unpacked there. git runs with the
// backend's environment: standard git configuration applies (`url.<base>.insteadOf` for a
// mirror, `http.proxy`), and prompts are off.
//
// A repository's `authorization_token` (SessionService keeps it in the OS keychain) is asked
// for through the run's TokenSource just before its clone, so a rotation applies. git gets it
// only through the environment of the clone process, as configuration that lives nowhere else:
// `http.<the session's URL>.extraHeader = Authorization: Basic base64(x-access-token:TOKEN)`
// (GIT_CONFIG_COUNT/KEY/VALUE, appended after any the backend already has). Never in argv, never
// in the clone's .git/config (`origin` stays the session's URL), so never in the VM; scoped to
// the URL the session gave, so a `url.<base>.insteadOf` mirror does not receive it.
//
// Resources are materialised in order; a failure is recorded with a message naming the
// resource and the run goes on with the next. Runs on the backend thread; never blocks it.
class WorkspaceResources : public QObject
{
    Q_OBJECT
public:
    WorkspaceResources(SandboxManager &sandboxes, FileService &files, QObject *parent = nullptr);
    ~WorkspaceResources() override;

    // A resource that could not be put in place. The others still are: the session keeps
    // running without it (the official API's `repository_*_error` events say the same).
    struct Failure
    {
        QJsonObject resource;
        QString errorType; // session.error `error.type`: repository_not_found_error,
                           // repository_clone_error, repository_checkout_error, unknown_error
        QString message;
    };
    // A github_repository resource's current token (empty: none). Called when its clone starts.
    using TokenSource = std::function<void(const QJsonObject &resource, Callback<QByteArray> done)>;

    // Materialises `resources` (session resource documents) into sandbox `sandboxId`; `done`
    // gets the failures (empty: all in place). Without `tokens`, repositories clone without one.
    void materialise(const QString &sandboxId, const QJsonArray &resources,
                     std::function<void(QList<Failure>)> done, TokenSource tokens = {});

    // The git configuration (key, value) that makes one HTTP(S) clone of `url` authenticate
    // with `token`; passed through the environment only.
    static QPair<QString, QByteArray> authConfig(const QString &url, const QByteArray &token);

    // Makes `dir` (SkillService::kMountRoot) a read-only bind mount of itself in the sandbox, its
    // files 0444 and folders 0555, unless it is one already (a VM booted again on the same
    // workspace gets it again). `done` gets an empty string or what went wrong.
    void lockReadOnly(const QString &sandboxId, const QString &dir, std::function<void(QString)> done);

    static constexpr qint64 kChunkBytes = 2 * 1024 * 1024;       // per agent write
    static constexpr qint64 kMaxRepositoryBytes = 1024LL * 1024 * 1024; // packed clone
    static constexpr int kCloneTimeoutMs = 10 * 60 * 1000;

private:
    struct Run;
    void next(const std::shared_ptr<Run> &run);
    void putFile(const std::shared_ptr<Run> &run, const QJsonObject &resource);
    void putRepository(const std::shared_ptr<Run> &run, const QJsonObject &resource);
    void putSkill(const std::shared_ptr<Run> &run, const QJsonObject &resource, qsizetype file);
    // `memory_store`: `memories` [{path, content}] (SessionSandboxSetup reads them from the store)
    // written under `mount_path`; memory -1 creates the folder.
    void putMemoryStore(const std::shared_ptr<Run> &run, const QJsonObject &resource, qsizetype memory);
    void cloneRepository(const std::shared_ptr<Run> &run, const QJsonObject &resource, const QByteArray &token);
    // Runs a host program (git, tar) without blocking; `then` on success, else fail().
    // `gitConfig` entries reach git through its environment (GIT_CONFIG_KEY_n/VALUE_n).
    void runHost(const std::shared_ptr<Run> &run, const QStringList &args, const QString &what,
                 std::function<void()> then, const QString &errorType = {},
                 const QList<QPair<QString, QByteArray>> &gitConfig = {});
    void streamInto(const std::shared_ptr<Run> &run, const QString &localPath, const QString &guestPath,
                    std::function<void()> then);
    void fail(const std::shared_ptr<Run> &run, const QString &message, const QString &errorType = {});

    SandboxManager &m_sandboxes;
    FileService &m_files;
};

} // namespace viv
