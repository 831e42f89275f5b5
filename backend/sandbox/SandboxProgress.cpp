#include "SandboxProgress.h"

#include "SandboxManager.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcProgress, "vivarium.sandbox.progress")

namespace viv {

namespace {
const QString kPhase = QStringLiteral("phase");
const QString kPercent = QStringLiteral("percent");
const QString kStep = QStringLiteral("step");
const QString kVm = QStringLiteral("vm");
const QString kAccelerator = QStringLiteral("accelerator");
const QString kTryingKvm = QStringLiteral("trying_kvm");
const QString kMessage = QStringLiteral("message");
const QString kStage = QStringLiteral("stage");
const QString kLog = QStringLiteral("log");
} // namespace

SandboxProgress::SandboxProgress(SandboxManager &sandboxes, EnvironmentLayers *layers, QObject *parent)
    : QObject(parent), m_sandboxes(sandboxes), m_layers(layers)
{
    connect(&sandboxes.image(), &GuestImage::statusChanged, this, [this] { updateAll(); });
    connect(&sandboxes, &SandboxManager::sandboxChanged, this, [this] { updateAll(); });
    connect(&sandboxes, &SandboxManager::sessionSandboxChanged, this,
            [this](const QString &sessionId) { update(sessionId); });
    connect(&sandboxes, &SandboxManager::accelerationChanged, this, [this] { updateAll(); });
    if (layers)
        connect(layers, &EnvironmentLayers::statusChanged, this,
                [this](const QString &hash, EnvironmentLayers::State state, const QString &text) {
                    // By key: update() emits changed(), whose receivers may end a wait.
                    const QStringList ids = m_waits.keys();
                    for (const QString &id : ids) {
                        auto it = m_waits.find(id);
                        if (it == m_waits.end() || it->layerHash != hash)
                            continue;
                        it->layerState = state;
                        it->layerText = text;
                        update(id);
                    }
                });
}

void SandboxProgress::begin(const QString &sessionId)
{
    m_failed.remove(sessionId);
    m_waits.insert(sessionId, Wait{});
    update(sessionId);
}

void SandboxProgress::resuming(const QString &sessionId, const QString &sandboxId, bool fromDisk)
{
    auto it = m_waits.find(sessionId);
    if (it == m_waits.end())
        return;
    it->resumeSandbox = sandboxId;
    it->fromDisk = fromDisk;
    update(sessionId);
}

void SandboxProgress::setLayer(const QString &sessionId, const EnvironmentLayers::Status &layer)
{
    auto it = m_waits.find(sessionId);
    if (it == m_waits.end() || layer.hash.isEmpty())
        return;
    it->layerHash = layer.hash;
    it->layerState = layer.state;
    it->layerText = layer.text;
    it->layerLog = layer.logPath;
    update(sessionId);
}

void SandboxProgress::layerFailed(const QString &sessionId, const QString &message)
{
    auto it = m_waits.find(sessionId);
    if (it == m_waits.end())
        return;
    it->layerFailed = true;
    it->layerText = message;
}

void SandboxProgress::finish(const QString &sessionId, const QString &error)
{
    auto it = m_waits.find(sessionId);
    if (it == m_waits.end())
        return;
    const Wait wait = *it;
    m_waits.erase(it);
    QJsonObject p;
    if (error.isEmpty()) {
        p.insert(kPhase, QStringLiteral("ready"));
        p.insert(kPercent, 100);
        Q_EMIT changed(sessionId, p);
        return;
    }
    // Which stage failed: the layer when the setup said so, the image when its build failed,
    // else the VM (boot, restore, libvirt).
    QString stage = QStringLiteral("vm");
    QString log;
    if (wait.layerFailed) {
        stage = QStringLiteral("layer");
        log = wait.layerLog;
    } else if (m_sandboxes.image().state() == GuestImage::State::Failed || wait.lastStage == u"image") {
        stage = QStringLiteral("image");
        log = m_sandboxes.image().logPath();
    }
    p.insert(kPhase, QStringLiteral("failed"));
    p.insert(kPercent, -1);
    p.insert(kMessage, error);
    p.insert(kStage, stage);
    if (!log.isEmpty())
        p.insert(kLog, log);
    qCInfo(lcProgress).noquote() << "session" << sessionId << "sandbox failed at the" << stage << "stage:" << error;
    m_failed.insert(sessionId, p);
    Q_EMIT changed(sessionId, p);
}

void SandboxProgress::forget(const QString &sessionId)
{
    m_waits.remove(sessionId);
    m_failed.remove(sessionId);
}

QJsonObject SandboxProgress::progress(const QString &sessionId) const
{
    if (auto it = m_waits.constFind(sessionId); it != m_waits.cend())
        return it->shown;
    return m_failed.value(sessionId);
}

QJsonObject SandboxProgress::compute(const QString &sessionId, Wait &wait) const
{
    QJsonObject p{{kPercent, -1}};
    const GuestImage &image = m_sandboxes.image();
    // A build it waited for has just failed: its failure follows (finish()), nothing between.
    if ((wait.lastStage == u"image" && image.state() == GuestImage::State::Failed)
        || (wait.lastStage == u"layer" && wait.layerState == EnvironmentLayers::State::Failed))
        return wait.shown;
    if (image.state() == GuestImage::State::Building) {
        wait.lastStage = QStringLiteral("image");
        p.insert(kPhase, QStringLiteral("image"));
        p.insert(kPercent, image.progress());
        p.insert(kStep, image.statusText());
        p.insert(kLog, image.logPath());
        return p;
    }
    if (!wait.layerHash.isEmpty() && wait.layerState == EnvironmentLayers::State::Building) {
        wait.lastStage = QStringLiteral("layer");
        p.insert(kPhase, QStringLiteral("layer"));
        p.insert(kStep, wait.layerText);
        p.insert(kLog, wait.layerLog);
        return p;
    }
    if (!wait.resumeSandbox.isEmpty()) {
        auto vm = m_sandboxes.get(wait.resumeSandbox);
        if (vm && vm->state == SandboxManager::State::Paused) {
            wait.lastStage = QStringLiteral("vm");
            p.insert(kPhase, QStringLiteral("vm"));
            p.insert(kVm, wait.fromDisk ? QStringLiteral("restoring") : QStringLiteral("resuming"));
            return p;
        }
    }
    if (auto vm = m_sandboxes.get(m_sandboxes.sandboxForSession(sessionId)); vm && vm->state == SandboxManager::State::Booting) {
        wait.lastStage = QStringLiteral("vm");
        p.insert(kPhase, QStringLiteral("vm"));
        p.insert(kVm, QStringLiteral("booting"));
        // The decision of this start: VMs boot under KVM while `auto` is undecided (a trial;
        // when it fails they boot again under TCG, Acceleration.h).
        const Acceleration &accel = m_sandboxes.acceleration();
        p.insert(kAccelerator, accel.useKvm() ? QStringLiteral("kvm") : QStringLiteral("tcg"));
        p.insert(kTryingKvm, accel.deciding());
        return p;
    }
    p.insert(kPhase, QStringLiteral("preparing"));
    return p;
}

void SandboxProgress::update(const QString &sessionId)
{
    auto it = m_waits.find(sessionId);
    if (it == m_waits.end())
        return;
    const QJsonObject p = compute(sessionId, *it);
    if (p == it->shown)
        return;
    it->shown = p;
    Q_EMIT changed(sessionId, p);
}

void SandboxProgress::updateAll()
{
    const QStringList ids = m_waits.keys();
    for (const QString &id : ids)
        update(id);
}

} // namespace viv
