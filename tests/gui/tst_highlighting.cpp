// Syntax highlighting through the one place that decides it (ui/SyntaxHighlighting): JSON keys,
// strings, numbers and literals, diff additions and removals, shell keywords, variables and
// comments each get a format of their own, and a dark palette gets lighter colours.
#include "SyntaxHighlighting.h"

#include <QApplication>
#include <QPalette>
#include <QSyntaxHighlighter>
#include <QTest>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextLayout>

using namespace viv;

class TestHighlighting : public QObject
{
    Q_OBJECT

    // The format the highlighter gave the character at `pos` of the document's line `line`.
    static QTextCharFormat formatAt(const QTextDocument &doc, int line, int pos)
    {
        const QTextBlock block = doc.findBlockByNumber(line);
        for (const QTextLayout::FormatRange &r : block.layout()->formats())
            if (pos >= r.start && pos < r.start + r.length)
                return r.format;
        return {};
    }

    static QColor colourOf(const QString &language, const QString &text, int pos)
    {
        QTextDocument doc(text);
        highlight(&doc, language)->rehighlight();
        return formatAt(doc, 0, pos).foreground().color();
    }

private Q_SLOTS:
    void json()
    {
        const QString text = QStringLiteral("{\"name\": \"value\", \"count\": 42, \"ok\": true}");
        QTextDocument doc(text);
        highlight(&doc, QStringLiteral("json"))->rehighlight();
        const auto key = formatAt(doc, 0, text.indexOf(u"name"));
        const auto value = formatAt(doc, 0, text.indexOf(u"value"));
        const auto number = formatAt(doc, 0, text.indexOf(u"42"));
        const auto literal = formatAt(doc, 0, text.indexOf(u"true"));
        const auto brace = formatAt(doc, 0, 0);
        for (const auto &f : {key, value, number, literal})
            QVERIFY(f.hasProperty(QTextFormat::ForegroundBrush));
        QVERIFY(key.foreground() != value.foreground());
        QVERIFY(number.foreground() != value.foreground());
        QVERIFY(literal.foreground() != value.foreground());
        QVERIFY(brace.foreground() != value.foreground());
    }

    void diff()
    {
        QTextDocument doc(QStringLiteral("@@ -1,2 +1,2 @@\n context\n-removed line\n+added line"));
        highlight(&doc, QStringLiteral("diff"))->rehighlight();
        const auto removed = formatAt(doc, 2, 1), added = formatAt(doc, 3, 1), context = formatAt(doc, 1, 1);
        QVERIFY(removed.hasProperty(QTextFormat::ForegroundBrush) && added.hasProperty(QTextFormat::ForegroundBrush));
        QVERIFY(removed.foreground() != added.foreground());
        QVERIFY(context.foreground() != added.foreground());
    }

    void shell()
    {
        const QString text = QStringLiteral("if true; then echo \"$HOME\" 7; fi # done");
        QTextDocument doc(text);
        highlight(&doc, QStringLiteral("bash"))->rehighlight();
        const auto keyword = formatAt(doc, 0, 0);
        const auto comment = formatAt(doc, 0, text.indexOf(u"# done") + 2);
        const auto plain = formatAt(doc, 0, text.indexOf(u"true") - 1); // the space after `if`
        QVERIFY(keyword.hasProperty(QTextFormat::ForegroundBrush));
        QVERIFY(comment.hasProperty(QTextFormat::ForegroundBrush));
        QVERIFY(keyword.foreground() != comment.foreground());
        QVERIFY(plain.foreground() != keyword.foreground());
    }

    void darkPaletteGetsLighterColours()
    {
        const QString text = QStringLiteral("{\"k\": \"a string\"}");
        const int pos = text.indexOf(u"a string");
        const QPalette original = QApplication::palette();
        QPalette light;
        light.setColor(QPalette::Window, Qt::white);
        light.setColor(QPalette::Base, Qt::white);
        light.setColor(QPalette::WindowText, Qt::black);
        light.setColor(QPalette::Text, Qt::black);
        QApplication::setPalette(light);
        const QColor onLight = colourOf(QStringLiteral("json"), text, pos);
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x20, 0x20, 0x20));
        dark.setColor(QPalette::Base, QColor(0x18, 0x18, 0x18));
        dark.setColor(QPalette::WindowText, Qt::white);
        dark.setColor(QPalette::Text, Qt::white);
        QApplication::setPalette(dark);
        const QColor onDark = colourOf(QStringLiteral("json"), text, pos);
        QApplication::setPalette(original);
        QVERIFY2(onDark.lightness() > onLight.lightness(),
                 qPrintable(QStringLiteral("%1 on light, %2 on dark").arg(onLight.name(), onDark.name())));
        qInfo("highlighter: %s", usingKSyntaxHighlighting() ? "KSyntaxHighlighting" : "built-in");
    }
};

QTEST_MAIN(TestHighlighting)
#include "tst_highlighting.moc"
