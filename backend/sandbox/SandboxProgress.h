#pragma once

#include "EnvironmentLayers.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>

namespace viv {

class SandboxManager;

// What a session's tool call is waiting for while its sandbox is prepared (issue 12, item 3):
// one progress per session, only while a tool call of that session waits for its VM
// (SandboxToolExecutor::withSandbox begins and finishes it; SessionSandboxSetup names the
// environment's layer). The phase follows what the wait is blocked on, first match wins:
//   image   the guest image is building (percent and step from GuestImage::statusChanged)
//   layer   the environment's package layer is building (EnvironmentLayers::statusChanged)
//   vm      the session's VM boots (`vm`: booting; `accelerator`: kvm | tcg, `trying_kvm` while
//           `auto` is undecided), is restored from its saved state (`vm`: restoring), or is
//           resumed (`vm`: resuming)
//   preparing  anything else (network policy, vault credentials, repository clones)
//   ready   the sandbox is there (the last progress of a wait)
//   failed  the wait failed: `message`, `stage` (image | layer | vm) and `log` where one exists
// The progress is a JSON object {phase, percent (-1: unknown), step, vm, accelerator,
// trying_kvm, message, stage, log}; the GUI words it. Lives on the backend thread.
class SandboxProgress : public QObject
{
    Q_OBJECT
public:
    SandboxProgress(SandboxManager &sandboxes, EnvironmentLayers *layers, QObject *parent = nullptr);

    // A tool call of the session waits for its sandbox (again: a new wait replaces a failure).
    void begin(const QString &sessionId);
    // The session's VM is paused and is resumed for it (`fromDisk`: restored from its saved state).
    void resuming(const QString &sessionId, const QString &sandboxId, bool fromDisk);
    // The session boots from this environment layer (EnvironmentLayers::Status at the time).
    void setLayer(const QString &sessionId, const EnvironmentLayers::Status &layer);
    // The layer could not be had: the wait fails at the layer stage (finish() follows).
    void layerFailed(const QString &sessionId, const QString &message);
    // The wait ended: `error` empty → ready, else failed.
    void finish(const QString &sessionId, const QString &error);
    // The session is gone: its progress is dropped without a signal.
    void forget(const QString &sessionId);

    // The session's current progress ({} when none: never waited, or ready).
    QJsonObject progress(const QString &sessionId) const;
    bool isWaiting(const QString &sessionId) const { return m_waits.contains(sessionId); }

Q_SIGNALS:
    void changed(const QString &sessionId, const QJsonObject &progress);

private:
    struct Wait
    {
        QString layerHash;
        EnvironmentLayers::State layerState = EnvironmentLayers::State::None;
        QString layerText;
        QString layerLog;
        bool layerFailed = false;
        QString resumeSandbox; // resuming(): the VM being resumed
        bool fromDisk = false;
        QString lastStage;     // image | layer | vm: what it last waited for
        QJsonObject shown;     // the last progress emitted
    };
    QJsonObject compute(const QString &sessionId, Wait &wait) const;
    void update(const QString &sessionId);
    void updateAll();

    SandboxManager &m_sandboxes;
    QPointer<EnvironmentLayers> m_layers;
    QHash<QString, Wait> m_waits;        // sessions waiting now
    QHash<QString, QJsonObject> m_failed; // sessions whose last wait failed (until the next one)
};

} // namespace viv
