#pragma once

#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <functional>

class QLabel;
class QListWidget;
class QWidget;

namespace viv {

// Whether an editor's form differs from what was last loaded or saved, and what to do about it.
// The form's state is a JSON snapshot taken by the page (`snapshot`): the editor is dirty when
// the snapshot differs from the one taken at markClean(), so typing a change and typing it back
// leaves it clean. Shows it three ways: a visible marker (marker(), "● Unsaved changes"), a "* "
// before the edited document's item in the page's list (setList()), and dirtyChanged() (the main
// window marks its title). Before something would discard the edits (opening another item,
// "New", closing the window), proceed() asks Save / Discard / Cancel.
class UnsavedChanges : public QObject
{
    Q_OBJECT
public:
    // `what` names the edited thing in the question ("the agent “X”"); `save` starts the page's
    // save, which must end in saveSucceeded() or saveFailed().
    UnsavedChanges(QWidget *page, const QString &markerName, std::function<QJsonObject()> snapshot,
                   std::function<QString()> what, std::function<void()> save);

    // Every input widget under `root` (line and text edits, combo boxes, check boxes, tables,
    // spin boxes) re-checks on each change. Call once the form is built.
    void watch(QWidget *root);
    // The list whose item `currentId()` names gets the "* " marker while dirty.
    void setList(QListWidget *list, std::function<QString()> currentId);
    QLabel *marker() const { return m_marker; }

    bool isDirty() const { return m_dirty; }
    // The form now shows what is stored: the current snapshot becomes the baseline.
    void markClean();
    // Compares the form with the baseline now (after a change the watched widgets do not report).
    void recheck();
    // While suspended (a page filling its form), changes are not checked; resume() re-baselines
    // with markClean() when `clean`, else rechecks.
    void suspend() { ++m_suspended; }
    void resume(bool clean);

    enum class Answer { Save, Discard, Cancel };
    // Runs `then` now when nothing is unsaved; else asks. Discard: runs `then` now. Save: starts
    // the save and runs `then` once it succeeded (not at all when it fails: the error shows and
    // the edits stay). Cancel: nothing. Returns false only for Cancel.
    bool proceed(std::function<void()> then);
    // Ctrl+S.
    void save();
    // The page's save answered.
    void saveSucceeded();
    void saveFailed();

    // The question proceed() asks (a QMessageBox named "unsavedChangesDialog").
    static Answer ask(QWidget *parent, const QString &what);

Q_SIGNALS:
    void dirtyChanged(bool dirty);

private:
    void setDirty(bool dirty);
    void applyListMarker();

    QWidget *m_page;
    std::function<QJsonObject()> m_snapshot;
    std::function<QString()> m_what;
    std::function<void()> m_save;
    std::function<QString()> m_currentId;
    QPointer<QListWidget> m_list;
    QLabel *m_marker = nullptr;
    QJsonObject m_baseline;
    std::function<void()> m_afterSave;
    bool m_dirty = false;
    bool m_marking = false;
    int m_suspended = 0;
};

} // namespace viv
