#pragma once

#include <QJsonObject>
#include <QWidget>

class QLabel;
class QPushButton;

namespace viv {

// The top row of a SandboxView: the VM's state (booting / running / paused / stopped), its
// details (boot time, warm pool, CPUs and memory, start and end) and Pause / Resume.
class SandboxStateBar : public QWidget
{
    Q_OBJECT
public:
    explicit SandboxStateBar(QWidget *parent = nullptr);

    // While the sandbox's info is fetched.
    void showLookingUp(const QString &sandboxId);
    // `error`: why a stopped sandbox stopped (empty: not known or not stopped).
    void showInfo(const QJsonObject &info, const QString &error);
    // `state` as SandboxView::state(); `busy`: a pause or resume is in flight.
    void updateActions(const QString &state, bool busy);

Q_SIGNALS:
    void pauseClicked();
    void resumeClicked();

private:
    QLabel *m_state = nullptr;
    QLabel *m_details = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_resume = nullptr;
};

} // namespace viv
