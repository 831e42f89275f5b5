#pragma once

#include "core/ApiError.h"

#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>

#include <functional>

class QTableWidget;

namespace viv {

// A message strip shown where the user acted (above a form, under a composer): errors stay
// until dismissed (click) or replaced, confirmations fade after a few seconds.
// It floats: it never pushes the layout. A page puts it in its layout where it belongs, as any
// widget; on first use it leaves its place to a zero-height anchor and is drawn over what lies
// below the anchor, as wide as the anchor, raised above its siblings.
class MessageBanner : public QLabel
{
    Q_OBJECT
public:
    explicit MessageBanner(QWidget *parent = nullptr);
    void showError(const QString &text);
    void showError(const ApiError &error);
    void showInfo(const QString &text);
    void clear();
    bool isError() const { return m_error; }

protected:
    void mousePressEvent(QMouseEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void present(const QString &text, bool error);
    void float_(); // takes the banner out of its layout (once)
    void place();  // over the anchor's place, as wide as it
    QWidget *m_anchor = nullptr;
    bool m_error = false;
    int m_generation = 0;
};

// A plain-text editor for code: fixed-width font, syntax highlighting (SyntaxHighlighting.h).
class CodeEdit : public QPlainTextEdit
{
    Q_OBJECT
public:
    explicit CodeEdit(const QString &language, QWidget *parent = nullptr);
};

// A two-column key/value table (metadata) with add and remove.
class KeyValueEditor : public QWidget
{
    Q_OBJECT
public:
    explicit KeyValueEditor(QWidget *parent = nullptr);
    void setValues(const QJsonObject &values);
    QJsonObject values() const;
    QTableWidget *table() const { return m_table; }

Q_SIGNALS:
    void edited();

private:
    QTableWidget *m_table = nullptr;
};

// `widget`, named `name` (the object name tests and style sheets find it by).
template <typename W>
W *named(W *widget, const QString &name)
{
    widget->setObjectName(name);
    return widget;
}

// A session's title for people: its own, else its agent's name and its start in local time
// ("Analyst · 06/12/2026 10:15"); never a raw id.
QString sessionDisplayTitle(const QJsonObject &session);
// An RFC 3339 time from the backend in local time, short format ("" when it does not parse).
QString localTime(const QString &iso);

// Readable text for an error from the backend.
QString errorText(const ApiError &error);
// Indented JSON, keys in document order as QJsonDocument writes them (sorted).
QString prettyJson(const QJsonValue &value);

// Seam for modal confirmations so tests can answer them: returns true to proceed.
using ConfirmFunction = std::function<bool(QWidget *parent, const QString &title, const QString &text)>;
bool confirm(QWidget *parent, const QString &title, const QString &text);
void setConfirmFunction(ConfirmFunction fn);

} // namespace viv
