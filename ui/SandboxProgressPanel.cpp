#include "SandboxProgressPanel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace viv {

namespace {
QString phaseOf(const QJsonObject &p)
{
    return p.value(QStringLiteral("phase")).toString();
}
} // namespace

SandboxProgressPanel::SandboxProgressPanel(QWidget *parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("sandboxProgress"));
    setFrameShape(QFrame::StyledPanel);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    auto *row = new QHBoxLayout;
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("sandboxProgressText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_dismiss = new QPushButton(style()->standardIcon(QStyle::SP_DialogCloseButton), QString(), this);
    m_dismiss->setObjectName(QStringLiteral("sandboxProgressDismiss"));
    m_dismiss->setToolTip(tr("Dismiss"));
    m_dismiss->setFlat(true);
    row->addWidget(m_text, 1);
    row->addWidget(m_dismiss, 0, Qt::AlignTop);
    layout->addLayout(row);
    m_bar = new QProgressBar(this);
    m_bar->setObjectName(QStringLiteral("sandboxProgressBar"));
    m_bar->setMaximumHeight(14);
    layout->addWidget(m_bar);
    m_hint = new QLabel(this);
    m_hint->setObjectName(QStringLiteral("sandboxProgressHint"));
    m_hint->setWordWrap(true);
    m_hint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_hint);
    connect(m_dismiss, &QPushButton::clicked, this, [this] { setProgress({}); });
    setVisible(false);
}

bool SandboxProgressPanel::isWaiting() const
{
    const QString phase = phaseOf(m_progress);
    return !phase.isEmpty() && phase != u"ready" && phase != u"failed";
}

QString SandboxProgressPanel::describe(const QJsonObject &p)
{
    const QString phase = phaseOf(p);
    const QString step = p.value(QStringLiteral("step")).toString();
    if (phase == u"image") {
        const int percent = p.value(QStringLiteral("percent")).toInt(-1);
        return percent >= 0 ? tr("Building the sandbox image: %1% %2").arg(percent).arg(step).trimmed()
                            : tr("Building the sandbox image: %1").arg(step).trimmed();
    }
    if (phase == u"layer")
        return step.isEmpty() ? tr("Installing the environment's packages (see log)")
                              : tr("Installing the environment's packages (see log): %1").arg(step);
    if (phase == u"vm") {
        const QString vm = p.value(QStringLiteral("vm")).toString();
        if (vm == u"restoring")
            return tr("Restoring the sandbox from disk");
        if (vm == u"resuming")
            return tr("Resuming the sandbox VM");
        if (p.value(QStringLiteral("trying_kvm")).toBool())
            return tr("Booting the sandbox VM (trying KVM…)");
        if (p.value(QStringLiteral("accelerator")).toString() == u"tcg")
            return tr("Booting the sandbox VM (software emulation, slower)");
        return tr("Booting the sandbox VM");
    }
    if (phase == u"preparing")
        return tr("Preparing the sandbox…");
    if (phase == u"failed")
        return tr("The sandbox could not be prepared: %1").arg(p.value(QStringLiteral("message")).toString());
    return {};
}

QString SandboxProgressPanel::nextStep(const QJsonObject &p)
{
    const QString stage = p.value(QStringLiteral("stage")).toString();
    const QString log = p.value(QStringLiteral("log")).toString();
    if (stage == u"layer")
        return tr("Open Environments to see the package build log, fix the packages and rebuild the layer, "
                  "then start a new session.");
    if (stage == u"image")
        return log.isEmpty() ? tr("See the image build log; the next tool call builds the image again.")
                             : tr("See the image build log (%1); the next tool call builds the image again.").arg(log);
    return tr("Check that libvirtd is running (installer/setup.sh starts it); the next tool call tries again.");
}

void SandboxProgressPanel::setProgress(const QJsonObject &progress)
{
    const QString phase = phaseOf(progress);
    m_progress = phase == u"ready" ? QJsonObject() : progress;
    if (m_progress.isEmpty()) {
        setVisible(false);
        return;
    }
    const bool failed = phase == u"failed";
    m_text->setText(describe(m_progress));
    m_text->setStyleSheet(failed ? QStringLiteral("color: #b00020;") : QString());
    m_dismiss->setVisible(failed);
    const int percent = m_progress.value(QStringLiteral("percent")).toInt(-1);
    m_bar->setVisible(!failed);
    if (percent >= 0 && phase == u"image") {
        m_bar->setRange(0, 100);
        m_bar->setValue(percent);
    } else {
        m_bar->setRange(0, 0); // busy: how long is not known
    }
    QString hint;
    if (failed)
        hint = nextStep(m_progress);
    else if (phase == u"image")
        hint = tr("The image is built once; later sessions start in seconds.");
    else if (phase == u"layer" && !m_progress.value(QStringLiteral("log")).toString().isEmpty())
        hint = tr("Log: %1").arg(m_progress.value(QStringLiteral("log")).toString());
    m_hint->setText(hint);
    m_hint->setVisible(!hint.isEmpty());
    setVisible(true);
}

} // namespace viv
