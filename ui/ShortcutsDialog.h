#pragma once

#include <QDialog>
#include <QList>

class QAction;

namespace viv {

// Help → Keyboard shortcuts: every action with a shortcut, read from the actions themselves
// (menus and the session view), so the list cannot drift from what the keys do.
class ShortcutsDialog : public QDialog
{
    Q_OBJECT
public:
    ShortcutsDialog(const QList<QAction *> &actions, QWidget *parent = nullptr);
};

} // namespace viv
