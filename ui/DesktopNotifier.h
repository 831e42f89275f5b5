#pragma once

#include <QObject>
#include <QPointer>

#include <functional>

class QSystemTrayIcon;
class QWidget;

namespace viv {

// Tells the person at the desk that something needs them while the window is not in front:
// a message from the system tray icon (with the app's name), and the window asks for attention
// (QApplication::alert: the taskbar entry flashes). The tray icon's tooltip carries the count of
// sessions that need you. Where no system tray exists (some desktops, offscreen), only the alert.
class DesktopNotifier : public QObject
{
    Q_OBJECT
public:
    explicit DesktopNotifier(QWidget *window);

    // `key` comes back through activated() when the message is clicked.
    void notify(const QString &title, const QString &body, const QString &key);
    // The tray tooltip: "Vivarium — N sessions need you" (no icon while nothing needs you and no
    // message is up).
    void setCount(int count);

    // Tests: every notification goes to `hook` (title, body) as well.
    using Hook = std::function<void(const QString &title, const QString &body)>;
    static void setHook(Hook hook);

Q_SIGNALS:
    void activated(const QString &key);

private:
    QSystemTrayIcon *tray();

    QPointer<QWidget> m_window;
    QSystemTrayIcon *m_tray = nullptr;
    QString m_lastKey;
    int m_count = 0;
};

} // namespace viv
