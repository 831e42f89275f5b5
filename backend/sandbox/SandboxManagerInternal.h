#pragma once

// Internal to the SandboxManager's implementation files (SandboxManager*.cpp): the VM record,
// an exec in flight, and the helpers more than one of those files uses. Nothing else includes it.

#include "SandboxManager.h"

#include "EgressProxy.h"
#include "ProxyChannel.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QTimer>

Q_DECLARE_LOGGING_CATEGORY(lcSandbox)

namespace viv {

namespace sandbox_internal {
// Text for an attribute or element of a domain XML, escaped as libvirt writes it back (its saved
// XML is where a template clone's strings are looked for). SandboxManagerDomainXml.cpp.
QString xmlEscaped(const QString &s);

// The VM's /workspace disk at <dir>/workspace.qcow2, made from `source`: a private copy for a
// raw or warm VM; for a session's VM a link to the session's persistent disk `wsDisk` (made from
// `source` first when it does not exist), so removing the VM's directory never touches it.
// SandboxManagerLifecycle.cpp.
Status placeWorkspace(const QString &source, const QString &dir, const QString &wsDisk);

// Restores a clone of the template into `dir` (blocking, on the libvirt pool): the template's
// disks are copied (the root overlay and the formatted workspace: a few MiB), the workspace to
// `wsDisk` when the VM is a session's (linked into `dir` as for a boot), and the saved state is
// restored under the clone's own XML. Whatever was made is removed again on failure.
// SandboxManagerVmTemplate.cpp.
Status restoreClone(LibvirtHost *lv, const QString &templateDir, const QString &dir, const QString &wsDisk,
                    const QByteArray &xml);
} // namespace sandbox_internal

struct SandboxManager::Vm
{
    Info info;
    QString dir;
    QString socket;
    QString domain;
    bool claimed = false;
    bool bootStarted = false;
    QString sessionId;         // the session whose tools run here (empty: raw API / warm)
    QString workspaceDisk;     // boot with this disk as /workspace (created from the template if missing)
    QString rootDisk;          // backing file of the root overlay (empty: the base image), or with
    bool rootWritable = false; // rootWritable the root disk itself (layer builds)
    GuestChannel *channel = nullptr;
    // `limited` networking: no NIC; the only egress is the `vivarium.proxy` port (its host end
    // `proxy`, opened once the domain exists) served by `egress` (the session's policy).
    bool networkLimited = false;
    bool forwarderReady = false; // the guest forwarder listens on 127.0.0.1:3128
    qint64 channelReadyMs = -1;  // bootClock when the agent first answered (the boot figure)
    bool warmedUp = false;       // a pool VM has run warmUp()'s requests
    bool fromTemplate = false;   // restored from the template (reseed and set the clock first)
    bool reseeded = false;
    bool templating = false; // being saved as the template: not offered, not counted as dead
    bool kvm = false;        // booted under KVM (domainXml(), timeouts); set when its boot starts
    bool kvmProbe = false;   // booted while `auto` acceleration was undecided (Acceleration.h)
    int bootAttempt = 0;     // 1 after a retry under TCG: the domain is named <prefix><id>-tcg
    QString proxySocket;
    QMap<QString, QString> placeholders; // credential env var name → placeholder (never a secret)
    ProxyChannel *proxy = nullptr;
    EgressProxy *egress = nullptr;
    QElapsedTimer bootClock;
    qint64 domainStartedMs = -1; // bootClock when libvirt reported the domain started
    QList<std::function<void(const QString &)>> readyWaiters;
    QTimer *ttl = nullptr;
    bool resuming = false;
    bool saving = false;    // save(): virDomainSave under way
    bool saved = false;     // the domain is gone, its state is in stateFile(); resume() restores it
    bool restoring = false; // the restored guest's agent has not answered yet
    QList<std::function<void()>> afterResume;
    QString stateFile() const { return dir + QStringLiteral("/memory.sav"); }
    ~Vm()
    {
        // Later, not now: a VM is often destroyed from inside a handler its own channel is
        // running (an exec's completion destroys a layer's build VM), and the channel's read
        // loop goes on after the handler returns. Its parent (the manager) reaps it at the end.
        if (channel) {
            channel->disconnect();
            channel->deleteLater();
        }
        delete proxy;
        delete egress;
        delete ttl;
    }
};

struct SandboxManager::PendingExec
{
    QString sandboxId;
    QJsonObject request; // the agent's `exec` request
    bool autoResume = false;
    Callback<ExecResult> done;
    qint64 rid = 0; // the agent's request id once sent (the `kill` op's target)
    bool cancelled = false;
};

} // namespace viv
