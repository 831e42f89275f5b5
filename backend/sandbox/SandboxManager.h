#pragma once

#include "Acceleration.h"
#include "EgressProxy.h"
#include "GuestChannel.h"
#include "GuestImage.h"
#include "Libvirt.h"
#include "SandboxConfig.h"
#include "core/Result.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QMap>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

namespace viv {

// Sandboxes: one libvirt domain per sandbox, booted straight from the guest image's kernel
// and initramfs, with a qcow2 overlay on the base disk and its own /workspace disk, and a
// guest-agent channel. Keeps a warm pool of pre-booted VMs. Lives on the backend thread;
// every libvirt call and disk operation runs on LibvirtHost's pool.
class SandboxManager : public QObject
{
    Q_OBJECT
public:
    enum class State { Booting, Running, Paused, Dead };

    struct Info
    {
        QString id;
        QString templateId;
        State state = State::Booting;
        QDateTime startedAt;
        QDateTime endAt; // null: no timeout
        int vcpus = 1;
        int memoryMiB = 512;
        qint64 bootMs = -1;  // cold boot (or restore from the template) → agent ready (-1 until ready)
        bool fromWarmPool = false;
        bool fromTemplate = false; // restored from the template VM's saved state (and reseeded), not booted
        bool newWorkspace = false; // claimForSession: the session's workspace disk was created by this claim
        bool savedToDisk = false;  // paused by save(): QEMU has stopped, its state is on disk
        QString accelerator;       // kvm | tcg: what this VM runs under (empty until its boot starts)
        QString deathReason;
        QJsonObject toJson() const;
    };

    struct ExecRequest
    {
        QStringList argv;
        QMap<QString, QString> env;
        QString cwd;       // default /workspace
        QByteArray stdinData;
        int timeoutMs = 0; // 0: none
        qint64 maxOutput = 0; // 0: the agent's default (8 MiB per stream)
    };
    struct ExecResult
    {
        QByteArray stdoutData;
        QByteArray stderrData;
        std::optional<int> exitCode; // nullopt when killed by a signal
        int signal = 0;
        bool timedOut = false;
        bool truncated = false;
        // Stopped by cancelExec(): the guest process group was killed (exitCode nullopt,
        // signal 9, the output up to then), or the process was never started (signal 0, no
        // output). A process that exited on its own before the kill reached it reports that
        // exit instead, with `cancelled` false.
        bool cancelled = false;
    };
    // Names an exec() in flight for cancelExec(); 0 is never a live handle.
    using ExecHandle = quint64;

    SandboxManager(SandboxConfig config, QString instanceTag, QObject *parent = nullptr);
    ~SandboxManager() override;

    // Sweeps orphaned VMs of this data directory (asynchronously) and, with prewarm, builds
    // the image and fills the pool.
    void start();

    static constexpr const char *kBaseTemplate = "base";

    // A raw API sandbox's template, resolved (SandboxTemplates): what it is called, the root
    // disk's backing file (empty: the base image; else a package layer) and its networking
    // (an environment's `config.networking`; {}: unrestricted).
    struct RawSpec
    {
        QString templateId;
        QString rootDisk;
        QJsonObject networking;
        int vcpus = 0;     // 0: the default size (as SessionSpec)
        int memoryMiB = 0;
    };
    // Claims a VM (warm pool first, for the base image with unrestricted networking; else a
    // VM of its own) and calls back once its agent is ready.
    void create(const RawSpec &spec, int timeoutS, Callback<Info> done);
    void create(const QString &templateId, int timeoutS, Callback<Info> done)
    {
        create(RawSpec{templateId.isEmpty() ? QString::fromLatin1(kBaseTemplate) : templateId, {}, {}}, timeoutS,
               std::move(done));
    }
    Result<Info> get(const QString &id) const;
    QList<Info> list() const; // claimed sandboxes, oldest first
    void destroy(const QString &id, Callback<Ok> done);
    void pause(const QString &id, Callback<Info> done);
    void resume(const QString &id, Callback<Info> done);
    // Saves a running or paused sandbox to disk (libvirt's virDomainSave; the domains are
    // transient, so this is the managed save of a long idle period): QEMU stops and frees its
    // memory, the guest's processes and the channel's pending requests live on in the saved
    // state. The sandbox then reads as paused (`savedToDisk`); resume(), or a request with
    // autoResume, restores it. A failed save ends the VM (a session's workspace disk is kept).
    // Saved states do not outlive the backend: a restart cold-boots on the workspace.
    void save(const QString &id, Callback<Info> done);
    // Runs a process to completion. A paused sandbox is an error unless autoResume. Returns the
    // handle cancelExec() takes; 0 when `done` has already been called (refused at once).
    ExecHandle exec(const QString &id, const ExecRequest &req, Callback<ExecResult> done, bool autoResume = false);
    // Stops an exec in flight: its process group in the guest is killed with SIGKILL through
    // the agent's `kill` op (killProcess()), and its callback then completes once, with the
    // ExecResult the agent reports (`cancelled` set, see ExecResult), or after kCancelGraceMs
    // without one (a paused or unresponsive VM: `cancelled`, no output). An exec still waiting
    // for its VM (booting, resuming) is never sent and completes at once. Returns false (and
    // does nothing) when the handle is unknown or its exec has already completed.
    bool cancelExec(ExecHandle handle);
    static constexpr int kCancelGraceMs = 5000;
    // Sends `signal` to the process group of an exec request running in the sandbox, named by
    // the agent's request id (GuestChannel::request()'s return value, the id of a keep_stdin
    // exec's `started` message). Best effort: no answer; a paused VM gets it when resumed.
    void killProcess(const QString &id, qint64 agentRequestId, int signal = 9);
    // A raw agent request (read/write/list/stat/mkdir/remove); the agent's reply or its error.
    void call(const QString &id, const QJsonObject &request, Callback<QJsonObject> done, bool autoResume = false);
    // A raw agent request whose every message goes to `handler` (streamed exec output, the
    // `started` reply of a keep_stdin exec, …). When the sandbox cannot take it the handler gets
    // one final {"type":"error","message":…} (with "channel_closed": true when the VM is gone).
    void request(const QString &id, const QJsonObject &request, GuestChannel::Handler handler,
                 bool autoResume = false);

    // ---- session sandboxes (the built-in tools' VMs; backend/sandbox/SandboxToolExecutor) ----
    // Every session has at most one VM and one persistent workspace disk,
    // <sandboxDir>/workspaces/<sessionId>.qcow2, which survives VM deaths, idle saves and
    // backend restarts. claimForSession() returns the session's live VM, else claims one:
    //  - no workspace disk yet: a warm-pool VM adopts its scratch workspace disk as the
    //    session's (the file is renamed under QEMU, which keeps it open);
    //  - a workspace disk exists (VM died, was stopped, backend restarted): a cold boot with
    //    that disk as /workspace.
    // Concurrent claims for one session share one VM.
    // What a session's VM boots from, decided by the executor from the session's environment.
    struct SessionSpec
    {
        // The root disk's backing file: empty for the guest image's base disk (the warm pool
        // serves these), else an environment package layer (EnvironmentLayers; cold boot).
        QString rootDisk;
        // The environment's `config.networking` ({} / unrestricted: warm pool, user-mode NIC;
        // `limited`: a cold boot without a NIC, egress only through the EgressProxy) and the
        // session's agent's MCP server URLs (admitted when `allow_mcp_servers`).
        QJsonObject networking;
        QStringList mcpServerUrls;
        // `environment_variable` credentials of the session's vaults (limited networking only):
        // the guest gets NAME=<fresh placeholder>, the proxy substitutes the secret. `placeholder`
        // is filled by the manager.
        QList<ProxyCredential> credentials;
        // The VM's size from the environment's `config.resources` (EnvironmentResources); 0:
        // the backend's default (SandboxConfig). A size other than the default boots a VM of
        // its own (warm VMs and the template have the default size).
        int vcpus = 0;
        int memoryMiB = 0;
    };
    void claimForSession(const QString &sessionId, const SessionSpec &spec, Callback<Info> done);
    void claimForSession(const QString &sessionId, Callback<Info> done) // on the base image
    {
        claimForSession(sessionId, SessionSpec{}, std::move(done));
    }
    // A VM for building an environment layer: `rootDisk` is its root disk itself (written by
    // the VM) when writableRoot, else the backing file of a fresh overlay. Never from the warm
    // pool, never a session's, no timeout; destroy() it when done (rootDisk is kept).
    void createBuilder(const QString &rootDisk, Callback<Info> done, bool writableRoot = true);
    // Destroys the session's VM (if any); with deleteWorkspace also its workspace disk.
    void releaseSession(const QString &sessionId, bool deleteWorkspace, Callback<Ok> done);
    QString workspaceDir() const { return m_config.sandboxDir + QStringLiteral("/workspaces"); }
    QString workspaceDisk(const QString &sessionId) const;
    // The session a sandbox belongs to (empty for raw API and warm sandboxes).
    QString sessionOfSandbox(const QString &sandboxId) const;

    GuestImage &image() { return *m_image; }
    LibvirtHost &libvirt() { return *m_libvirt; }
    const SandboxConfig &config() const { return m_config; }
    // KVM or TCG, and why (Acceleration.h): decided once per start, shown in the GUI and logs.
    const Acceleration &acceleration() const { return m_accel; }
    int warmCount() const;
    // The warm pool's target size (SandboxConfig::warmPool at start). Changing it applies at
    // once: a larger pool boots the missing VMs (once the pool is in use: after the first
    // sandbox was asked for, or with prewarm; before that the new size applies when it is
    // first filled); a smaller one destroys surplus unclaimed VMs (not yet booted ones first,
    // then ready ones; one whose boot is under way when it becomes ready). Claimed VMs are
    // never touched.
    int warmPoolSize() const { return m_config.warmPool; }
    void setWarmPoolSize(int size);
    // The libvirt domain of sandbox `id` (<prefix><id>; <prefix><id>-tcg once it was booted again
    // under TCG after KVM failed it, Acceleration.h).
    QString domainName(const QString &id) const;
    // The sandbox a session's tools run in; empty until the session's first tool call.
    QString sandboxForSession(const QString &sessionId) const { return m_sessionSandboxes.value(sessionId); }
    // Variables every process in this sandbox gets (merged under each exec's own env by
    // request()/call()/exec()): the proxy variables for a `limited` sandbox, else none.
    QMap<QString, QString> guestEnvironment(const QString &sandboxId) const;

Q_SIGNALS:
    void sandboxChanged(const QString &id, viv::SandboxManager::State state);
    void warmPoolChanged(int ready);
    // `auto` acceleration settled on KVM or TCG (acceleration() says which and why).
    void accelerationChanged();
    // A session got its sandbox (or lost it: `sandboxId` empty).
    void sessionSandboxChanged(const QString &sessionId, const QString &sandboxId);

private:
    struct Vm;
    Vm *find(const QString &id) const;
    Vm *bootVm(bool claimed, const QString &sessionId = {}, const QString &rootDisk = {}, bool rootWritable = false,
               bool networkLimited = false, int vcpus = 0, int memoryMiB = 0);
    // Whether a requested size (0: default) is other than the default VM's.
    bool customSize(int vcpus, int memoryMiB) const;
    void withRegistryHosts(std::function<void(const QStringList &)> fn);
    QJsonObject withGuestEnv(const Vm *vm, QJsonObject request) const;
    void finishSessionClaim(const QString &sessionId, const QString &sandboxId, const QString &error);
    // `networking` as a policy: nullopt for unrestricted (a NIC), else the egress policy (with
    // the machine's package registries when it allows package managers). Asynchronous.
    void resolvePolicy(const QJsonObject &networking, const QStringList &mcpServerUrls,
                       std::function<void(Result<std::optional<NetworkPolicy>>)> then);
    // A `limited` VM's egress: the proxy with its policy and the credentials' placeholders.
    void attachEgress(Vm *vm, const NetworkPolicy &policy, QList<ProxyCredential> credentials);
    void setSessionSandbox(const QString &sessionId, const QString &sandboxId);
    void startQueuedBoots();
    void doBoot(Vm *vm);
    void onReady(Vm *vm);
    void warmUp(Vm *vm);
    void restoreSaved(Vm *vm);
    // VM templates (DESIGN.md "VM templates"): the first warm VM, booted and warmed up, is saved
    // once; later fresh VMs are restored from that state under their own name, disks and UUID.
    struct Template
    {
        QString dir;         // <sandboxDir>/template: state.save, root.qcow2, workspace.qcow2
        QString key;         // templateKey() of the VM it was made from
        QByteArray xml;      // the domain XML in the save image's header
        QStringList from;    // that VM's id, domain, directory, sockets: replaced for a clone
        bool ready = false;
        bool creating = false;
        int failures = 0;    // templates are given up on after a few failures
    };
    bool templateFits(const Vm &vm) const; // a fresh base VM with unrestricted networking
    static QStringList vmNames(const Vm &vm); // what differs between VMs' XML: paths, names, id
    static QString templateKey(const Vm &vm, QString xml); // `xml`: domainXml(vm)
    QByteArray cloneXml(const Vm &vm, const QString &xml) const; // the template's XML for `vm`, or empty
    void makeTemplate(Vm *vm);
    void dropTemplate(const QString &why);
    void reseed(Vm *vm, std::function<void()> then);
    Vm *pickWarm() const; // an unclaimed VM: a ready one first, else one still booting
    // A VM booted for a session's claim: recorded as the session's, the claim ends when it is ready.
    void claimBooted(const QString &sessionId, Vm *vm, bool newWorkspace);
    void syncGuestClock(Vm *vm, std::function<void()> then);
    // An exec of the manager's own (forwarder, warm-up, clock) on `vm`'s agent: `then` gets the
    // final message, only while the VM is still there and not dead.
    void guestExec(Vm *vm, QJsonObject request, std::function<void(Vm *, const QJsonObject &)> then);
    // The same for any agent request (`request` carries its op).
    void guestRequest(Vm *vm, const QJsonObject &request, std::function<void(Vm *, const QJsonObject &)> then);
    static bool execSucceeded(const QJsonObject &final); // no agent error, exit code 0
    void markDead(Vm *vm, const QString &reason);
    // A VM that booted under the undecided KVM and failed: boot it again under TCG.
    bool retryUnderTcg(Vm *vm, const QString &reason);
    void fillPool();
    void trimPool();
    void retireWarm(Vm *vm); // destroys an unclaimed VM (the pool shrank, or it died)
    // A job that makes a VM's domain (a boot, a clone restore, a restore from disk) runs on a
    // libvirt pool thread; tearing that VM down meanwhile must wait for it, or the teardown
    // (on another pool thread) finds no domain yet and the job then starts one nobody owns.
    void creatingDomain(const QString &id, const QString &domain);
    void domainCreated(const QString &id); // runs the teardown deferred meanwhile, if any
    void teardownDomain(const QString &id, std::function<void()> teardown);
    struct PendingExec;
    void sendExec(ExecHandle handle);
    void finishExec(ExecHandle handle, Result<ExecResult> result);
    void whenReady(Vm *vm, std::function<void(const QString &error)> fn);
    void onDomainEvent(const QString &name, int event, int detail);
    void poll();
    // The libvirt domains of this instance that are not shut off or crashed, by name.
    void listAlive(std::function<void(const QSet<QString> &)> then);
    static bool mayBeGone(const Vm *vm); // a live VM whose domain should be running
    void armTtl(Vm *vm, int timeoutS);
    Result<Vm *> usable(const QString &id, bool autoResume, std::function<void()> retry);
    QString domainXml(const Vm &vm) const;
    static QString stateName(State s);

    SandboxConfig m_config;
    Acceleration m_accel;
    QString m_tag;
    QString m_prefix;    // "vivarium-<tag>-"
    QString m_socketDir; // short path for unix sockets (108-byte limit)
    LibvirtHost *m_libvirt = nullptr;
    GuestImage *m_image = nullptr;
    QHash<QString, Vm *> m_vms;
    QList<QString> m_bootQueue;
    int m_booting = 0;
    QHash<QString, QString> m_creating; // VM id → domain, while a job is making that domain
    QHash<QString, std::function<void()>> m_afterCreate; // teardowns waiting for such a job
    int m_maxParallelBoots = 2;
    bool m_poolWanted = false;
    int m_poolFailures = 0;
    QTimer m_poll;
    QHash<QString, QString> m_sessionSandboxes; // session id → sandbox id
    QHash<QString, QList<Callback<Info>>> m_sessionClaims; // claims in progress → waiters
    QHash<ExecHandle, PendingExec *> m_execs; // exec() calls whose callback is still due
    ExecHandle m_nextExec = 1;
    Template m_template;
    std::optional<QStringList> m_registryHosts; // PackageRegistries::discover(), once
    QList<std::function<void(const QStringList &)>> m_registryWaiters;
    friend struct SandboxManagerAccess;
};

} // namespace viv
