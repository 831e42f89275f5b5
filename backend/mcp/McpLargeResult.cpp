#include "McpLargeResult.h"

#include <QJsonObject>

namespace viv::mcp {

namespace {

const QString kSeparator = QStringLiteral("\n\n");

bool isText(const QJsonValue &b)
{
    return b.toObject().value(QStringLiteral("type")).toString() == u"text";
}

QJsonObject textBlock(const QString &text)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), text}};
}

// `head` and `note` as one text block, followed by every non-text block of `blocks`.
QJsonArray withNote(const QJsonArray &blocks, const QString &head, const QString &note)
{
    QJsonArray out{textBlock(head + kSeparator + note)};
    for (const QJsonValue &b : blocks)
        if (!isText(b))
            out.append(b);
    return out;
}

} // namespace

qsizetype resultMaxCharsFromEnvironment()
{
    bool ok = false;
    const qlonglong v = qEnvironmentVariable("VIVARIUM_MCP_RESULT_MAX_CHARS").toLongLong(&ok);
    return ok && v > 0 ? qsizetype(v) : kDefaultResultMaxChars;
}

QString resultText(const QJsonArray &blocks)
{
    QStringList parts;
    for (const QJsonValue &b : blocks)
        if (isText(b))
            parts << b.toObject().value(QStringLiteral("text")).toString();
    return parts.join(kSeparator);
}

qsizetype resultTextChars(const QJsonArray &blocks)
{
    qsizetype n = 0, count = 0;
    for (const QJsonValue &b : blocks)
        if (isText(b)) {
            n += b.toObject().value(QStringLiteral("text")).toString().size();
            ++count;
        }
    return count > 1 ? n + (count - 1) * kSeparator.size() : n; // == resultText(blocks).size()
}

QString resultSpillPath(const QString &toolUseId)
{
    return QString::fromUtf16(kResultSpillDir) + u'/' + toolUseId + QStringLiteral(".txt");
}

QString headChars(const QString &text, qsizetype n)
{
    if (n >= text.size())
        return text;
    if (n > 0 && text.at(n - 1).isHighSurrogate())
        --n;
    return text.left(n);
}

QJsonArray spilledResultBlocks(const QJsonArray &blocks, const QString &path, qsizetype maxChars)
{
    const QString text = resultText(blocks);
    const qsizetype total = text.size();
    const QString head = headChars(text, qMin(kResultPreviewChars, maxChars));
    const QString note =
        QStringLiteral("[This MCP tool result is %1 characters, over the %2-character limit for a tool result, so "
                       "only its first %3 characters are shown above. The full result is saved in this session's "
                       "sandbox at %4 (%1 characters, %5 bytes): read it with the read tool (view_range reads a "
                       "part) or search it with grep or bash.]")
            .arg(total)
            .arg(maxChars)
            .arg(head.size())
            .arg(path)
            .arg(text.toUtf8().size());
    return withNote(blocks, head, note);
}

QJsonArray truncatedResultBlocks(const QJsonArray &blocks, qsizetype maxChars, const QString &why)
{
    const QString text = resultText(blocks);
    const QString head = headChars(text, maxChars);
    const QString note = QStringLiteral("[This MCP tool result is %1 characters, over the %2-character limit for a "
                                        "tool result: it was truncated after the first %3 characters shown above, "
                                        "and the rest is not available because %4.]")
                             .arg(text.size())
                             .arg(maxChars)
                             .arg(head.size())
                             .arg(why);
    return withNote(blocks, head, note);
}

} // namespace viv::mcp
