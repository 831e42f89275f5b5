#include "Widgets.h"

#include "FieldLabels.h"
#include "SyntaxHighlighting.h"

#include <QDateTime>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLayout>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace viv {

MessageBanner::MessageBanner(QWidget *parent) : QLabel(parent)
{
    setWordWrap(true);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    setMargin(6);
    setVisible(false);
    setToolTip(tr("Click to dismiss"));
    setAutoFillBackground(true);
    // Pages lay the banner out right after creating it: it leaves its place to the anchor
    // before anything is shown, so that even its first message moves nothing.
    QTimer::singleShot(0, this, &MessageBanner::float_);
}

void MessageBanner::float_()
{
    if (m_anchor || !parentWidget())
        return;
    // Where the page laid the banner out, a zero-height anchor takes its place; the banner is
    // then placed by hand, over the page, and showing it moves nothing.
    m_anchor = new QWidget(parentWidget());
    m_anchor->setObjectName(objectName().isEmpty() ? QStringLiteral("bannerAnchor")
                                                   : objectName() + QStringLiteral("Anchor"));
    m_anchor->setFixedHeight(0);
    m_anchor->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    bool replaced = false;
    for (QWidget *w = parentWidget(); w && !replaced; w = w->parentWidget()) {
        if (QLayout *layout = w->layout()) {
            if (QLayoutItem *old = layout->replaceWidget(this, m_anchor)) {
                delete old;
                replaced = true;
            }
        }
        if (w->isWindow())
            break;
    }
    if (!replaced) { // never laid out: floats at the top of its parent
        m_anchor->setGeometry(0, 0, parentWidget()->width(), 0);
        parentWidget()->installEventFilter(this);
    }
    m_anchor->show();
    m_anchor->installEventFilter(this);
}

void MessageBanner::place()
{
    if (!m_anchor || !parentWidget())
        return;
    const int width = m_anchor->width() > 0 ? m_anchor->width() : parentWidget()->width();
    const QPoint at = parentWidget()->mapFromGlobal(m_anchor->mapToGlobal(QPoint(0, 0)));
    const int height = std::max(sizeHint().height(), heightForWidth(width));
    setGeometry(at.x(), at.y(), width, height);
    raise();
}

bool MessageBanner::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::Resize || event->type() == QEvent::Move) {
        if (watched != m_anchor && m_anchor) // a parent without a layout: the anchor spans it
            m_anchor->setGeometry(0, 0, parentWidget()->width(), 0);
        if (isVisible())
            place();
    }
    return QLabel::eventFilter(watched, event);
}

void MessageBanner::present(const QString &text, bool error)
{
    m_error = error;
    ++m_generation;
    setText(text);
    // Colours with enough contrast on light and dark palettes alike.
    setStyleSheet(error ? QStringLiteral("QLabel { background: #fbe3e4; color: #7a1c1c; "
                                         "border: 1px solid #e4a0a3; border-radius: 3px; }")
                        : QStringLiteral("QLabel { background: #e3f4e6; color: #1d5b27; "
                                         "border: 1px solid #9fd3a8; border-radius: 3px; }"));
    float_();
    place();
    setVisible(true);
    if (!error) {
        const int generation = m_generation;
        QTimer::singleShot(4000, this, [this, generation] {
            if (generation == m_generation)
                clear();
        });
    }
}

void MessageBanner::showError(const QString &text)
{
    present(text, true);
}

void MessageBanner::showError(const ApiError &error)
{
    present(errorText(error), true);
}

void MessageBanner::showInfo(const QString &text)
{
    present(text, false);
}

void MessageBanner::clear()
{
    ++m_generation;
    m_error = false;
    QLabel::clear();
    setVisible(false);
}

void MessageBanner::mousePressEvent(QMouseEvent *event)
{
    QLabel::mousePressEvent(event);
    clear();
}

CodeEdit::CodeEdit(const QString &language, QWidget *parent) : QPlainTextEdit(parent)
{
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setTabChangesFocus(false);
    highlight(document(), language);
}

KeyValueEditor::KeyValueEditor(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_table = new QTableWidget(0, 2, this);
    m_table->setObjectName(QStringLiteral("metadataTable"));
    m_table->setHorizontalHeaderLabels({tr("Key"), tr("Value")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setVisible(false);
    layout->addWidget(m_table);
    auto *buttons = new QHBoxLayout;
    auto *add = new QPushButton(tr("Add"), this);
    auto *remove = new QPushButton(tr("Remove"), this);
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch();
    layout->addLayout(buttons);
    connect(add, &QPushButton::clicked, this, [this] {
        m_table->insertRow(m_table->rowCount());
        m_table->editItem(m_table->item(m_table->rowCount() - 1, 0));
        Q_EMIT edited();
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_table->currentRow() >= 0)
            m_table->removeRow(m_table->currentRow());
        Q_EMIT edited();
    });
    connect(m_table, &QTableWidget::itemChanged, this, &KeyValueEditor::edited);
}

void KeyValueEditor::setValues(const QJsonObject &values)
{
    const QSignalBlocker block(m_table);
    m_table->setRowCount(0);
    for (auto it = values.begin(); it != values.end(); ++it) {
        const int row = m_table->rowCount();
        m_table->insertRow(row);
        m_table->setItem(row, 0, new QTableWidgetItem(it.key()));
        m_table->setItem(row, 1, new QTableWidgetItem(it.value().toString()));
    }
}

QJsonObject KeyValueEditor::values() const
{
    QJsonObject out;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const auto *k = m_table->item(row, 0);
        const auto *v = m_table->item(row, 1);
        if (k && !k->text().trimmed().isEmpty())
            out.insert(k->text().trimmed(), v ? v->text() : QString());
    }
    return out;
}

QString localTime(const QString &iso)
{
    QDateTime t = QDateTime::fromString(iso, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(iso, Qt::ISODate);
    return t.isValid() ? QLocale().toString(t.toLocalTime(), QLocale::ShortFormat) : QString();
}

QString sessionDisplayTitle(const QJsonObject &session)
{
    const QString title = session.value(QStringLiteral("title")).toString().trimmed();
    if (!title.isEmpty())
        return title;
    QString agent = session.value(QStringLiteral("agent")).toObject().value(QStringLiteral("name")).toString();
    if (agent.isEmpty())
        agent = QObject::tr("Session");
    const QString started = localTime(session.value(QStringLiteral("created_at")).toString());
    return started.isEmpty() ? agent : QStringLiteral("%1 · %2").arg(agent, started);
}

QString errorText(const ApiError &error)
{
    // The API's field names are worded as the forms label them (FieldLabels.h).
    const QString message = withFieldLabels(error.message());
    switch (error.kind()) {
    case ApiError::Kind::Unavailable: return QObject::tr("Not available: %1").arg(message);
    case ApiError::Kind::NotFound: return QObject::tr("Not found: %1").arg(message);
    case ApiError::Kind::Conflict: return QObject::tr("Conflict: %1").arg(message);
    case ApiError::Kind::InvalidRequest: return QObject::tr("Invalid: %1").arg(message);
    default: return QObject::tr("Error: %1").arg(message);
    }
}

QString prettyJson(const QJsonValue &value)
{
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Indented)).trimmed();
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Indented)).trimmed();
    if (value.isString())
        return value.toString();
    if (value.isNull() || value.isUndefined())
        return QStringLiteral("null");
    // Scalars: wrap, serialise, unwrap.
    const QString s = QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
    return s.mid(1, s.size() - 2);
}

namespace {
ConfirmFunction &confirmFunction()
{
    static ConfirmFunction fn;
    return fn;
}
} // namespace

bool confirm(QWidget *parent, const QString &title, const QString &text)
{
    if (confirmFunction())
        return confirmFunction()(parent, title, text);
    return QMessageBox::question(parent, title, text, QMessageBox::Yes | QMessageBox::Cancel,
                                 QMessageBox::Cancel) == QMessageBox::Yes;
}

void setConfirmFunction(ConfirmFunction fn)
{
    confirmFunction() = std::move(fn);
}

} // namespace viv
