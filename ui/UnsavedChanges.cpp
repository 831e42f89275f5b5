#include "UnsavedChanges.h"

#include "Widgets.h"

#include <QAbstractButton>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>

namespace viv {

namespace {
const QString kMark = QStringLiteral("* ");
constexpr int MarkedRole = Qt::UserRole + 40; // the item carries the marker we added
} // namespace

UnsavedChanges::UnsavedChanges(QWidget *page, const QString &markerName, std::function<QJsonObject()> snapshot,
                               std::function<QString()> what, std::function<void()> save)
    : QObject(page), m_page(page), m_snapshot(std::move(snapshot)), m_what(std::move(what)), m_save(std::move(save))
{
    m_marker = named(new QLabel(tr("● Unsaved changes"), page), markerName);
    m_marker->setStyleSheet(QStringLiteral("QLabel { color: #b26a00; font-weight: bold; }"));
    m_marker->setToolTip(tr("Save with Ctrl+S"));
    m_marker->setVisible(false);
}

void UnsavedChanges::watch(QWidget *root)
{
    auto check = [this] { recheck(); };
    for (auto *w : root->findChildren<QLineEdit *>()) {
        // A combo box's line edit reports through the combo box.
        if (!qobject_cast<QComboBox *>(w->parentWidget()))
            connect(w, &QLineEdit::textChanged, this, check);
    }
    for (auto *w : root->findChildren<QPlainTextEdit *>())
        connect(w, &QPlainTextEdit::textChanged, this, check);
    for (auto *w : root->findChildren<QComboBox *>()) {
        connect(w, &QComboBox::currentIndexChanged, this, check);
        if (w->isEditable())
            connect(w, &QComboBox::editTextChanged, this, check);
    }
    for (auto *w : root->findChildren<QAbstractButton *>())
        if (w->isCheckable())
            connect(w, &QAbstractButton::toggled, this, check);
    for (auto *w : root->findChildren<QTableWidget *>()) {
        connect(w, &QTableWidget::itemChanged, this, check);
        connect(w->model(), &QAbstractItemModel::rowsRemoved, this, check);
    }
    for (auto *w : root->findChildren<QSpinBox *>())
        connect(w, &QSpinBox::valueChanged, this, check);
}

void UnsavedChanges::setList(QListWidget *list, std::function<QString()> currentId)
{
    m_list = list;
    m_currentId = std::move(currentId);
    // Live updates and reloads rewrite the items' texts: the marker follows.
    auto reapply = [this] { applyListMarker(); };
    connect(list->model(), &QAbstractItemModel::dataChanged, this, reapply);
    connect(list->model(), &QAbstractItemModel::rowsInserted, this, reapply);
}

void UnsavedChanges::markClean()
{
    m_baseline = m_snapshot();
    setDirty(false);
}

void UnsavedChanges::recheck()
{
    if (m_suspended > 0)
        return;
    setDirty(m_snapshot() != m_baseline);
}

void UnsavedChanges::resume(bool clean)
{
    if (m_suspended > 0)
        --m_suspended;
    if (clean)
        markClean();
    else
        recheck();
}

void UnsavedChanges::setDirty(bool dirty)
{
    if (dirty == m_dirty) {
        applyListMarker(); // the edited item may be another one by now
        return;
    }
    m_dirty = dirty;
    m_marker->setVisible(dirty);
    applyListMarker();
    Q_EMIT dirtyChanged(dirty);
}

void UnsavedChanges::applyListMarker()
{
    if (!m_list || m_marking)
        return;
    m_marking = true;
    const QString current = m_dirty && m_currentId ? m_currentId() : QString();
    for (int row = 0; row < m_list->count(); ++row) {
        QListWidgetItem *item = m_list->item(row);
        // The item's id: a string, or the document's "id" (credentials keep their document).
        const QVariant data = item->data(Qt::UserRole);
        const QString id = data.typeId() == QMetaType::QJsonObject
                               ? data.toJsonObject().value(QStringLiteral("id")).toString()
                               : data.toString();
        const bool want = !current.isEmpty() && id == current;
        const bool marked = item->data(MarkedRole).toBool();
        QString text = item->text();
        if (marked && !text.startsWith(kMark))
            text.prepend(kMark); // the text was rewritten (live update): mark it again
        if (want && !marked)
            text.prepend(kMark);
        else if (!want && marked && text.startsWith(kMark))
            text.remove(0, kMark.size());
        if (text != item->text())
            item->setText(text);
        if (want != marked)
            item->setData(MarkedRole, want);
    }
    m_marking = false;
}

UnsavedChanges::Answer UnsavedChanges::ask(QWidget *parent, const QString &what)
{
    QMessageBox box(QMessageBox::Warning, tr("Unsaved changes"),
                    tr("%1 has unsaved changes.").arg(what),
                    QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, parent);
    box.setObjectName(QStringLiteral("unsavedChangesDialog"));
    box.setInformativeText(tr("Save them before going on, or discard them?"));
    box.setDefaultButton(QMessageBox::Save);
    box.setEscapeButton(QMessageBox::Cancel);
    switch (box.exec()) {
    case QMessageBox::Save:
        return Answer::Save;
    case QMessageBox::Discard:
        return Answer::Discard;
    default:
        return Answer::Cancel;
    }
}

bool UnsavedChanges::proceed(std::function<void()> then)
{
    if (!m_dirty) {
        then();
        return true;
    }
    QString what = m_what ? m_what() : QString();
    if (what.isEmpty())
        what = tr("This form");
    switch (ask(m_page, what)) {
    case Answer::Save:
        m_afterSave = std::move(then);
        m_save();
        return true;
    case Answer::Discard:
        markClean(); // what replaces the form re-baselines anyway; until then nothing is unsaved
        then();
        return true;
    case Answer::Cancel:
        break;
    }
    return false;
}

void UnsavedChanges::save()
{
    m_save();
}

void UnsavedChanges::saveSucceeded()
{
    markClean();
    if (auto then = std::exchange(m_afterSave, nullptr))
        then();
}

void UnsavedChanges::saveFailed()
{
    m_afterSave = nullptr;
}

} // namespace viv
