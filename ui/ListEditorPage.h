#pragma once

#include "BackendBridge.h"

#include <QJsonObject>
#include <QList>
#include <QWidget>

#include <functional>
#include <utility>

// The widgets a list/editor page builds its list and editor from.
class QCheckBox;
class QComboBox;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSplitter;
class QVBoxLayout;

namespace viv {

class ApiError;
class Backend;
class MessageBanner;
class UnsavedChanges;

// The scaffold the list/editor pages share (Agents, Environments, Vaults, Sessions, Sandboxes):
// columns side by side in a splitter (the list on the left, the editor or the view of the
// selected item on the right), the MessageBanner where the backend's errors and confirmations
// show, rows of buttons, backend calls whose errors go to that banner, and the QListWidget of
// documents keyed by id (Qt::UserRole) kept in step with the backend. Each page keeps its own
// texts (tr() in its own context), object names and what its editor does.
class ListEditorPage : public QWidget
{
    Q_OBJECT
public:
    // The editor's unsaved-changes tracker (UnsavedChanges.h); null on pages that edit nothing.
    UnsavedChanges *unsavedChanges() const { return m_unsaved; }

protected:
    // `bannerName`: the banner's object name (empty: none).
    ListEditorPage(BackendBridge &bridge, const QString &objectName, const QString &bannerName,
                   QWidget *parent);

    struct Column
    {
        QWidget *widget;
        QVBoxLayout *layout; // no margins
    };
    // A new column at the right of the splitter.
    Column addColumn();
    QSplitter *splitter() const { return m_split; }
    // The page's own layout: the splitter, and whatever stands above it.
    QVBoxLayout *pageLayout() const { return m_layout; }
    // The columns' first widths; with `stretchLast` the last column takes what the window gains.
    void setColumnSizes(const QList<int> &sizes, bool stretchLast = true);
    // `leading` on the left, a stretch, `trailing` on the right.
    static QHBoxLayout *buttonRow(const QList<QWidget *> &leading, const QList<QWidget *> &trailing);

    MessageBanner *banner() const { return m_banner; }
    // How the page shows an error from the backend (default: in the banner).
    virtual void showBackendError(const ApiError &error);

    // `work` runs on the backend thread (BackendBridge::call, or callAsync for requestAsync);
    // an error goes to showBackendError(), a value to `use`. `busy` (e.g. Save) is disabled
    // until the answer comes.
    template <typename T, typename Work, typename Use>
    void request(Work &&work, Use &&use, QWidget *busy = nullptr)
    {
        setBusy(busy, true);
        m_bridge.call<T>(this, std::forward<Work>(work), answer<T>(std::forward<Use>(use), busy));
    }
    template <typename T, typename Work, typename Use>
    void requestAsync(Work &&work, Use &&use, QWidget *busy = nullptr)
    {
        setBusy(busy, true);
        m_bridge.callAsync<T>(this, std::forward<Work>(work), answer<T>(std::forward<Use>(use), busy));
    }

    // Refills `list` (without selection signals) with every document that `fetch` pages
    // through, each through `add` in the order listed.
    using PageFetch = std::function<Result<Page>(Backend &, const PageRequest &)>;
    void reloadList(QListWidget *list, PageFetch fetch, std::function<void(const QJsonObject &)> add);

    // The item of document `id` in `list` (its id in Qt::UserRole), or -1.
    static int rowOf(const QListWidget *list, const QString &id);
    // Shows document `id` as `text`, or takes it out when `hidden` (unless `keepCurrent` and it
    // is `current`). A new item goes on top (a live change) or at the end (a reload, which lists
    // newest first); it becomes the current item, without selection signals, when it is `current`.
    static void upsertItem(QListWidget *list, const QString &id, const QString &text, bool hidden, bool atEnd,
                           const QString &current, bool keepCurrent = false);
    // Makes document `id` the current item; `quietly`: without selection signals.
    static void selectItem(QListWidget *list, const QString &id, bool quietly = true);
    static void removeItem(QListWidget *list, const QString &id);

    BackendBridge &m_bridge;
    // Set by editor pages; a failed request drops what was to follow its save.
    UnsavedChanges *m_unsaved = nullptr;

private:
    void requestFailed();
    static void setBusy(QWidget *busy, bool on)
    {
        if (busy)
            busy->setEnabled(!on);
    }
    template <typename T, typename Use>
    auto answer(Use &&use, QWidget *busy)
    {
        return [this, busy, use = std::forward<Use>(use)](Result<T> r) mutable {
            setBusy(busy, false);
            if (!r) {
                requestFailed();
                return showBackendError(r.error());
            }
            use(*r);
        };
    }

    QVBoxLayout *m_layout = nullptr;
    QSplitter *m_split = nullptr;
    MessageBanner *m_banner = nullptr;
};

} // namespace viv
