#pragma once

#include <QMainWindow>

class QLabel;
class QListWidget;
class QStackedWidget;

namespace viv {

// The main window: navigation on the left, the selected area on the right, the API URL in
// the status bar. The designers and session views grow in later work (see issues).
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);

public Q_SLOTS:
    void setBackendReady(const QString &baseUrl);
    void setBackendFailed(const QString &message);

private:
    QListWidget *m_nav = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLabel *m_apiLabel = nullptr;
};

} // namespace viv
