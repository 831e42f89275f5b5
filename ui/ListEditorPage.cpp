#include "ListEditorPage.h"

#include "UnsavedChanges.h"
#include "Widgets.h"

#include <QHBoxLayout>
#include <QListWidget>
#include <QSplitter>
#include <QVBoxLayout>

namespace viv {

ListEditorPage::ListEditorPage(BackendBridge &bridge, const QString &objectName, const QString &bannerName,
                               QWidget *parent)
    : QWidget(parent), m_bridge(bridge)
{
    setObjectName(objectName);
    m_layout = new QVBoxLayout(this);
    m_split = new QSplitter(this);
    m_layout->addWidget(m_split, 1);
    m_banner = new MessageBanner(this);
    if (!bannerName.isEmpty())
        m_banner->setObjectName(bannerName);
}

ListEditorPage::Column ListEditorPage::addColumn()
{
    auto *widget = new QWidget(m_split);
    auto *layout = new QVBoxLayout(widget);
    layout->setContentsMargins(0, 0, 0, 0);
    return {widget, layout};
}

void ListEditorPage::setColumnSizes(const QList<int> &sizes, bool stretchLast)
{
    if (stretchLast)
        m_split->setStretchFactor(m_split->count() - 1, 1);
    m_split->setSizes(sizes);
}

QHBoxLayout *ListEditorPage::buttonRow(const QList<QWidget *> &leading, const QList<QWidget *> &trailing)
{
    auto *row = new QHBoxLayout;
    for (QWidget *w : leading)
        row->addWidget(w);
    row->addStretch();
    for (QWidget *w : trailing)
        row->addWidget(w);
    return row;
}

void ListEditorPage::requestFailed()
{
    if (m_unsaved)
        m_unsaved->saveFailed();
}

void ListEditorPage::showBackendError(const ApiError &error)
{
    m_banner->showError(error);
}

void ListEditorPage::reloadList(QListWidget *list, PageFetch fetch, std::function<void(const QJsonObject &)> add)
{
    request<QJsonArray>(
        [fetch = std::move(fetch)](Backend &b) {
            return BackendBridge::allPages([&](const PageRequest &r) { return fetch(b, r); });
        },
        [list, add = std::move(add)](const QJsonArray &docs) {
            const QSignalBlocker block(list);
            list->clear();
            for (const auto &v : docs)
                add(v.toObject());
        });
}

int ListEditorPage::rowOf(const QListWidget *list, const QString &id)
{
    for (int i = 0; i < list->count(); ++i)
        if (list->item(i)->data(Qt::UserRole).toString() == id)
            return i;
    return -1;
}

void ListEditorPage::upsertItem(QListWidget *list, const QString &id, const QString &text, bool hidden, bool atEnd,
                                const QString &current, bool keepCurrent)
{
    if (const int row = rowOf(list, id); row >= 0) {
        if (hidden && !(keepCurrent && id == current))
            delete list->takeItem(row);
        else
            list->item(row)->setText(text);
        return;
    }
    if (hidden)
        return;
    auto *item = new QListWidgetItem(text);
    item->setData(Qt::UserRole, id);
    const QSignalBlocker block(list);
    list->insertItem(atEnd ? list->count() : 0, item);
    if (!current.isEmpty() && id == current) // a reload keeps the open document highlighted
        list->setCurrentItem(item);
}

void ListEditorPage::selectItem(QListWidget *list, const QString &id, bool quietly)
{
    const int row = rowOf(list, id);
    if (row < 0)
        return;
    const QSignalBlocker block(quietly ? list : nullptr);
    list->setCurrentRow(row);
}

void ListEditorPage::removeItem(QListWidget *list, const QString &id)
{
    for (int row = rowOf(list, id); row >= 0; row = rowOf(list, id))
        delete list->takeItem(row);
}

} // namespace viv
