#pragma once

#include <QStringList>
#include <QWidget>

class QPlainTextEdit;
class QLabel;

namespace viv {

// One line of a side-by-side diff: the left line (or empty when only the right has one), the
// right line, and how they relate.
struct DiffRow
{
    enum Kind { Same, Removed, Added, Changed };
    Kind kind = Same;
    QString left;
    QString right;
};

// Line diff (longest common subsequence), paired for side-by-side display: a run of removals
// followed by a run of additions is shown as changed lines next to each other.
QList<DiffRow> diffLines(const QStringList &left, const QStringList &right);

// Two read-only panes scrolled together, changed lines tinted (red left, green right).
class DiffView : public QWidget
{
    Q_OBJECT
public:
    explicit DiffView(QWidget *parent = nullptr);
    void setTexts(const QString &leftTitle, const QString &left, const QString &rightTitle,
                  const QString &right);
    int changedRows() const { return m_changed; }
    QString leftText() const;
    QString rightText() const;

private:
    QLabel *m_leftTitle = nullptr;
    QLabel *m_rightTitle = nullptr;
    QPlainTextEdit *m_left = nullptr;
    QPlainTextEdit *m_right = nullptr;
    int m_changed = 0;
};

} // namespace viv
