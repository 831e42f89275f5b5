#include "SandboxStateBar.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>

namespace viv {

SandboxStateBar::SandboxStateBar(QWidget *parent) : QWidget(parent)
{
    auto *stateRow = new QHBoxLayout(this);
    stateRow->setContentsMargins(0, 0, 0, 0);
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("sandboxState"));
    QFont bold = m_state->font();
    bold.setBold(true);
    m_state->setFont(bold);
    m_details = new QLabel(this);
    m_details->setObjectName(QStringLiteral("sandboxDetails"));
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setWordWrap(true); // wraps instead of widening the view
    m_pause = new QPushButton(tr("Pause"), this);
    m_pause->setObjectName(QStringLiteral("sandboxPause"));
    m_pause->setToolTip(tr("Freeze the VM; its memory and files are kept."));
    m_resume = new QPushButton(tr("Resume"), this);
    m_resume->setObjectName(QStringLiteral("sandboxResume"));
    stateRow->addWidget(m_state);
    stateRow->addSpacing(8);
    stateRow->addWidget(m_details, 1);
    stateRow->addWidget(m_pause);
    stateRow->addWidget(m_resume);
    connect(m_pause, &QPushButton::clicked, this, &SandboxStateBar::pauseClicked);
    connect(m_resume, &QPushButton::clicked, this, &SandboxStateBar::resumeClicked);
}

void SandboxStateBar::showLookingUp(const QString &sandboxId)
{
    m_state->setText(tr("Looking up the sandbox…"));
    m_details->setText(sandboxId);
}

void SandboxStateBar::showInfo(const QJsonObject &info, const QString &error)
{
    const QString s = info.value(QStringLiteral("state")).toString();
    if (s == u"booting")
        m_state->setText(tr("◐ Booting…"));
    else if (s == u"running")
        m_state->setText(tr("● Running"));
    else if (s == u"paused" && info.value(QStringLiteral("savedToDisk")).toBool())
        m_state->setText(tr("❚❚ Paused (saved to disk)"));
    else if (s == u"paused")
        m_state->setText(tr("❚❚ Paused"));
    else if (s == u"dead")
        m_state->setText(error.isEmpty() ? tr("■ Stopped") : tr("■ Stopped: %1").arg(error));
    else
        m_state->setText(s);

    QStringList details;
    const QLocale locale;
    const QJsonValue bootMs = info.value(QStringLiteral("bootMs"));
    if (bootMs.isDouble())
        details << (info.value(QStringLiteral("fromTemplate")).toBool()
                        ? tr("restored from the VM template in %1 s")
                        : tr("booted in %1 s"))
                       .arg(locale.toString(bootMs.toDouble() / 1000.0, 'f', 1));
    if (info.contains(QStringLiteral("fromWarmPool")))
        details << (info.value(QStringLiteral("fromWarmPool")).toBool() ? tr("from the warm pool")
                                                                          : tr("cold start"));
    if (info.contains(QStringLiteral("cpuCount")))
        details << tr("%1 vCPU", "a count of virtual CPUs, as a unit").arg(info.value(QStringLiteral("cpuCount")).toInt());
    if (info.contains(QStringLiteral("memoryMB")))
        details << tr("%1 MiB memory").arg(info.value(QStringLiteral("memoryMB")).toInt());
    const QDateTime started = QDateTime::fromString(info.value(QStringLiteral("startedAt")).toString(), Qt::ISODateWithMs);
    if (started.isValid())
        details << tr("started %1").arg(locale.toString(started.toLocalTime(), QLocale::ShortFormat));
    const QDateTime ends = QDateTime::fromString(info.value(QStringLiteral("endAt")).toString(), Qt::ISODateWithMs);
    if (ends.isValid() && s != u"dead")
        details << tr("ends %1").arg(locale.toString(ends.toLocalTime(), QLocale::ShortFormat));
    m_details->setText(details.join(QStringLiteral(" · ")));
    m_details->setToolTip(info.value(QStringLiteral("sandboxID")).toString());
}

void SandboxStateBar::updateActions(const QString &state, bool busy)
{
    m_pause->setEnabled(state == u"running" && !busy);
    m_resume->setEnabled(state == u"paused" && !busy);
}

} // namespace viv
