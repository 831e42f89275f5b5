#include "SyntaxHighlighting.h"

#include <QApplication>
#include <QPalette>
#include <QRegularExpression>
#include <QSyntaxHighlighter>
#include <QTextDocument>

#ifdef VIVARIUM_HAVE_KSYNTAXHIGHLIGHTING
#include <KSyntaxHighlighting/Definition>
#include <KSyntaxHighlighting/Repository>
#include <KSyntaxHighlighting/SyntaxHighlighter>
#include <KSyntaxHighlighting/Theme>
#endif

namespace viv {

namespace {

bool darkPalette()
{
    return QApplication::palette().color(QPalette::Base).lightness() < 128;
}

struct Rule
{
    QRegularExpression pattern;
    QTextCharFormat format;
    int group = 0;
};

QTextCharFormat fmt(const QColor &light, const QColor &dark, bool bold = false, bool italic = false)
{
    QTextCharFormat f;
    f.setForeground(darkPalette() ? dark : light);
    if (bold)
        f.setFontWeight(QFont::Bold);
    f.setFontItalic(italic);
    return f;
}

// A line-based rule highlighter: each rule's regular expression colours its matches (or one
// capture group). Good enough for the small snippets Vivarium shows; multi-line constructs are
// not tracked.
class BuiltinHighlighter : public QSyntaxHighlighter
{
public:
    BuiltinHighlighter(QTextDocument *doc, const QString &language) : QSyntaxHighlighter(doc)
    {
        const auto string = fmt(QColor(0x0a, 0x7d, 0x32), QColor(0x9c, 0xdc, 0x8c));
        const auto number = fmt(QColor(0x1c, 0x5f, 0xb8), QColor(0x8c, 0xc4, 0xff));
        const auto keyword = fmt(QColor(0x8a, 0x2b, 0xb0), QColor(0xd0, 0x9c, 0xff), true);
        const auto comment = fmt(QColor(0x6a, 0x73, 0x7d), QColor(0x9a, 0xa4, 0xae), false, true);
        const auto key = fmt(QColor(0xa3, 0x1f, 0x34), QColor(0xff, 0xa0, 0x7a));
        auto add = [this](const QString &re, const QTextCharFormat &f, int group = 0) {
            m_rules.append({QRegularExpression(re), f, group});
        };
        if (language == u"json") {
            add(QStringLiteral("-?\\b\\d+(\\.\\d+)?([eE][+-]?\\d+)?\\b"), number);
            add(QStringLiteral("\\b(true|false|null)\\b"), keyword);
            add(QStringLiteral("\"(?:[^\"\\\\]|\\\\.)*\""), string);
            add(QStringLiteral("(\"(?:[^\"\\\\]|\\\\.)*\")\\s*:"), key, 1);
        } else if (language == u"diff") {
            add(QStringLiteral("^\\+.*$"), fmt(QColor(0x0a, 0x7d, 0x32), QColor(0x9c, 0xdc, 0x8c)));
            add(QStringLiteral("^-.*$"), fmt(QColor(0xb3, 0x1d, 0x28), QColor(0xff, 0x8a, 0x80)));
            add(QStringLiteral("^@@.*$"), fmt(QColor(0x1c, 0x5f, 0xb8), QColor(0x8c, 0xc4, 0xff), true));
        } else {
            QString words;
            if (language == u"python")
                words = QStringLiteral("and|as|async|await|class|def|elif|else|except|False|for|"
                                       "from|if|import|in|is|lambda|None|not|or|print|return|"
                                       "True|try|while|with|yield");
            else if (language == u"typescript")
                words = QStringLiteral("async|await|const|else|export|for|from|function|if|"
                                       "import|let|new|of|return|true|false|null|undefined|"
                                       "while");
            else // bash
                words = QStringLiteral("case|do|done|elif|else|esac|export|fi|for|function|if|"
                                       "in|local|then|until|while|echo|cd|set");
            add(QStringLiteral("\\b(%1)\\b").arg(words), keyword);
            add(QStringLiteral("\\b\\d+(\\.\\d+)?\\b"), number);
            if (language == u"bash")
                add(QStringLiteral("\\$\\{?[A-Za-z_][A-Za-z0-9_]*\\}?"), key);
            add(QStringLiteral("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`"), string);
            add(language == u"typescript" ? QStringLiteral("//.*$") : QStringLiteral("(^|\\s)#.*$"),
                comment);
        }
    }

protected:
    void highlightBlock(const QString &text) override
    {
        for (const Rule &rule : std::as_const(m_rules)) {
            auto it = rule.pattern.globalMatch(text);
            while (it.hasNext()) {
                const auto m = it.next();
                setFormat(int(m.capturedStart(rule.group)), int(m.capturedLength(rule.group)),
                          rule.format);
            }
        }
    }

private:
    QList<Rule> m_rules;
};

#ifdef VIVARIUM_HAVE_KSYNTAXHIGHLIGHTING
KSyntaxHighlighting::Repository &repository()
{
    static KSyntaxHighlighting::Repository repo;
    return repo;
}

QString definitionName(const QString &language)
{
    if (language == u"json")
        return QStringLiteral("JSON");
    if (language == u"diff")
        return QStringLiteral("Diff");
    if (language == u"python")
        return QStringLiteral("Python");
    if (language == u"typescript")
        return QStringLiteral("TypeScript");
    return QStringLiteral("Bash");
}
#endif

} // namespace

bool usingKSyntaxHighlighting()
{
#ifdef VIVARIUM_HAVE_KSYNTAXHIGHLIGHTING
    return true;
#else
    return false;
#endif
}

QSyntaxHighlighter *highlight(QTextDocument *document, const QString &language)
{
#ifdef VIVARIUM_HAVE_KSYNTAXHIGHLIGHTING
    auto *h = new KSyntaxHighlighting::SyntaxHighlighter(document);
    h->setTheme(repository().defaultTheme(darkPalette()
                                              ? KSyntaxHighlighting::Repository::DarkTheme
                                              : KSyntaxHighlighting::Repository::LightTheme));
    h->setDefinition(repository().definitionForName(definitionName(language)));
    return h;
#else
    return new BuiltinHighlighter(document, language);
#endif
}

} // namespace viv
