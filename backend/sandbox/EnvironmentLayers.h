#pragma once

#include "core/Result.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>

namespace viv {

class SandboxManager;

// Environment package layers (issue "Sandboxes", item 2): an environment's `config.packages`
// (apt, pip, npm, cargo, go, gem) are installed once into a qcow2 layer on top of the guest
// image's base disk; every session VM of that environment boots from an overlay on the layer
// (base → environment layer → session overlay).
//
// A layer is keyed by a hash of the base image version and the package lists, so identical
// configurations share one layer and a changed configuration gets a new one:
//   <imageDir>/layers/<hash>/layer.qcow2   the finished layer (read-only backing file)
//   <imageDir>/layers/<hash>/build.log     the install's output, kept for the GUI and API
//   <imageDir>/layers/<hash>/failed        present when the build failed (its message)
// A failed build stays failed (sessions on it get a clear error naming the log) until
// rebuild() is asked for, so a broken package list is not retried on every session.
//
// The build boots one VM with the layer as its writable root disk and the unrestricted
// user-mode network, runs the install script (package managers the lists need are installed
// with apt first), syncs and destroys the VM. Runs on the backend thread; never blocks it.
class EnvironmentLayers : public QObject
{
    Q_OBJECT
public:
    enum class State { None, Building, Ready, Failed };
    Q_ENUM(State)

    struct Status
    {
        State state = State::None; // None: no packages, the base image is used as is
        QString hash;
        QString text;              // what is happening / why it failed
        QString logPath;
        QJsonObject toJson() const;
    };

    EnvironmentLayers(SandboxManager &sandboxes, QString layersDir, QObject *parent = nullptr);

    // The root disk sessions of an environment with this config boot from: the base disk when
    // it has no packages, else its layer (built first when needed). Several callers may wait
    // for one build.
    void ensure(const QJsonObject &environmentConfig, Callback<QString> done);
    // Forgets a failed build of this config and builds again.
    void rebuild(const QJsonObject &environmentConfig, Callback<QString> done);
    // Where a config's layer stands (without building).
    Status status(const QJsonObject &environmentConfig) const;

    // sha256 over the image version and the package lists, 16 hex digits; empty: no packages.
    QString hashOf(const QJsonObject &environmentConfig) const;
    // The install script for a config's packages (exposed for tests and the build log).
    static QString installScript(const QJsonObject &packages, const QString &npmRegistry);

    static constexpr int kBuildTimeoutMs = 30 * 60 * 1000;

Q_SIGNALS:
    void statusChanged(const QString &hash, viv::EnvironmentLayers::State state, const QString &text);

private:
    void build(const QString &hash, const QJsonObject &packages);
    void finish(const QString &hash, const QString &error);
    void setText(const QString &hash, State state, const QString &text);
    QString dirOf(const QString &hash) const;
    static bool hasPackages(const QJsonObject &packages);

    SandboxManager &m_sandboxes;
    QString m_dir;
    QHash<QString, QList<Callback<QString>>> m_waiters; // builds in progress
    QHash<QString, QString> m_text;                     // live status text of builds in progress
};

} // namespace viv
