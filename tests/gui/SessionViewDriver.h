#pragma once
// What the offscreen GUI tests of the session view share (tst_gui_outputs, tst_gui_threads,
// tst_gui_outcomes): a widget found by objectName (warning when missing), the Sessions page's
// SessionView, and opening a session there until its document has arrived.

#include "MainWindow.h"
#include "SessionView.h"
#include "SessionsPage.h"

#include <QDebug>
#include <QTest>

namespace gui_test {

using viv::MainWindow;
using viv::SessionView;

template <typename T>
T *child(QObject *root, const QString &name)
{
    T *w = root->findChild<T *>(name);
    if (!w)
        qWarning() << "no widget" << name;
    return w;
}

inline SessionView *sessionView(MainWindow *window)
{
    return window->sessionsPage()->sessionView();
}

inline void openSession(MainWindow *window, const QString &id)
{
    window->sessionsPage()->openSession(id);
    QTRY_COMPARE(sessionView(window)->sessionId(), id);
    QTRY_VERIFY(!sessionView(window)->session().isEmpty());
}

} // namespace gui_test
