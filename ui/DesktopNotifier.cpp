#include "DesktopNotifier.h"

#include <QApplication>
#include <QStyle>
#include <QSystemTrayIcon>
#include <QWidget>

namespace viv {

namespace {
DesktopNotifier::Hook &hook()
{
    static DesktopNotifier::Hook h;
    return h;
}
} // namespace

DesktopNotifier::DesktopNotifier(QWidget *window) : QObject(window), m_window(window) {}

void DesktopNotifier::setHook(Hook h)
{
    hook() = std::move(h);
}

QSystemTrayIcon *DesktopNotifier::tray()
{
    if (m_tray || !QSystemTrayIcon::isSystemTrayAvailable())
        return m_tray;
    QIcon icon = QApplication::windowIcon();
    if (icon.isNull())
        icon = QApplication::style()->standardIcon(QStyle::SP_ComputerIcon);
    m_tray = new QSystemTrayIcon(icon, this);
    m_tray->setObjectName(QStringLiteral("trayIcon"));
    connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] { Q_EMIT activated(m_lastKey); });
    connect(m_tray, &QSystemTrayIcon::activated, this, [this] { Q_EMIT activated(m_lastKey); });
    return m_tray;
}

void DesktopNotifier::notify(const QString &title, const QString &body, const QString &key)
{
    m_lastKey = key;
    if (hook())
        hook()(title, body);
    if (QSystemTrayIcon *t = tray()) {
        t->show();
        t->showMessage(title, body, QSystemTrayIcon::Information, 15000);
    }
    if (m_window)
        QApplication::alert(m_window);
}

void DesktopNotifier::setCount(int count)
{
    m_count = count;
    const QString app = QApplication::applicationDisplayName().isEmpty() ? tr("Vivarium")
                                                                          : QApplication::applicationDisplayName();
    if (!m_tray) {
        if (count == 0)
            return;
        if (!tray())
            return;
    }
    m_tray->setToolTip(count == 0 ? app : tr("%1 — %n session(s) need you", nullptr, count).arg(app));
    m_tray->setVisible(count > 0);
}

} // namespace viv
