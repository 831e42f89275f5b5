#pragma once

#include <QFrame>
#include <QJsonObject>

class QLabel;
class QProgressBar;
class QPushButton;

namespace viv {

// What a session's first tool call is waiting for while its sandbox is prepared (the backend's
// SandboxProgress, forwarded by BackendBridge::sandboxProgressChanged): the phase in words, a
// progress bar (a percentage while the guest image builds, else busy), and on failure the
// message and what to do next. Hidden when nothing waits and once the sandbox is ready.
class SandboxProgressPanel : public QFrame
{
    Q_OBJECT
public:
    explicit SandboxProgressPanel(QWidget *parent = nullptr);

    // Shows a progress object ({} or phase "ready": hidden).
    void setProgress(const QJsonObject &progress);
    QJsonObject progress() const { return m_progress; }
    bool isWaiting() const; // a phase other than ready / failed is shown

    // The phase in words ("Building the sandbox image: 45% installing packages"); empty for
    // ready and none.
    static QString describe(const QJsonObject &progress);
    // After a failure: what the user can do about it.
    static QString nextStep(const QJsonObject &progress);

private:
    QJsonObject m_progress;
    QLabel *m_text = nullptr;
    QLabel *m_hint = nullptr;
    QProgressBar *m_bar = nullptr;
    QPushButton *m_dismiss = nullptr;
};

} // namespace viv
