#include "BuiltinTools.h"

#include "NetworkPolicy.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QStringDecoder>
#include <QUrl>

namespace viv::tools {

QString guestPath(const QString &path)
{
    if (path.startsWith(u'/'))
        return path;
    if (path.isEmpty() || path == u".")
        return QStringLiteral("/workspace");
    return QStringLiteral("/workspace/") + path;
}

NumberedText numberLines(const QString &content, int start, int end)
{
    QStringList lines = content.split(u'\n');
    if (content.endsWith(u'\n'))
        lines.removeLast(); // the newline ends the last line; it does not start another
    const int total = int(lines.size());
    if (start < 1)
        start = 1;
    if (end <= 0 || end > total)
        end = total;
    if (total == 0)
        return {QStringLiteral("(the file is empty)"), {}};
    if (start > total)
        return {{}, QStringLiteral("view_range starts at line %1 but the file has %2 line(s)").arg(start).arg(total)};
    if (end < start)
        return {{}, QStringLiteral("view_range [%1, %2] is empty: end_line is before start_line").arg(start).arg(end)};
    QString out;
    for (int i = start; i <= end; ++i) {
        out += QStringLiteral("%1\t").arg(i, 6);
        out += lines.at(i - 1);
        if (i < end)
            out += u'\n';
    }
    return {out, {}};
}

EditResult applyEdit(const QString &content, const QString &oldString, const QString &newString, bool replaceAll,
                     const QString &path)
{
    if (oldString.isEmpty())
        return {{}, 0, QStringLiteral("edit: old_string is empty; to create or overwrite a file use write")};
    if (oldString == newString)
        return {{}, 0, QStringLiteral("edit: old_string and new_string are identical; nothing would change")};
    const int count = int(content.count(oldString));
    if (count == 0)
        return {{}, 0, QStringLiteral("edit: old_string not found in %1 (it must match exactly, whitespace and "
                                      "indentation included)").arg(path)};
    if (count > 1 && !replaceAll)
        return {{}, 0, QStringLiteral("edit: old_string appears %1 times in %2; it must be unique: add surrounding "
                                      "context, or set replace_all to replace every occurrence").arg(count).arg(path)};
    QString out = content;
    if (replaceAll) {
        out.replace(oldString, newString);
    } else {
        const qsizetype at = out.indexOf(oldString);
        out.replace(at, oldString.size(), newString);
    }
    return {out, replaceAll ? count : 1, {}};
}

std::optional<QString> decodeText(const QByteArray &bytes)
{
    if (bytes.contains('\0'))
        return std::nullopt;
    QStringDecoder dec(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString s = dec.decode(bytes);
    if (dec.hasError())
        return std::nullopt;
    return s;
}

QString imageMediaType(const QString &path)
{
    const QString p = path.toLower();
    if (p.endsWith(QLatin1String(".png")))
        return QStringLiteral("image/png");
    if (p.endsWith(QLatin1String(".jpg")) || p.endsWith(QLatin1String(".jpeg")))
        return QStringLiteral("image/jpeg");
    if (p.endsWith(QLatin1String(".gif")))
        return QStringLiteral("image/gif");
    if (p.endsWith(QLatin1String(".webp")))
        return QStringLiteral("image/webp");
    return {};
}

QByteArray ansiCQuote(const QString &command)
{
    const QByteArray in = command.toUtf8();
    QByteArray out = "$'";
    out.reserve(in.size() + 16);
    for (const char ch : in) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\\')
            out += "\\\\";
        else if (c == '\'')
            out += "\\'";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c < 0x20 || c == 0x7f)
            out += "\\x" + QByteArray::number(c, 16).rightJustified(2, '0');
        else
            out += ch; // printable ASCII and UTF-8 bytes as they are
    }
    out += '\'';
    return out;
}

QByteArray bashSentinel(const QByteArray &nonce)
{
    return "__VIVARIUM_DONE_" + nonce + "__:";
}

QByteArray bashWrapper(const QString &command, const QByteArray &nonce)
{
    // The syntax is checked by a separate `bash -n` first: a syntax error inside `eval` makes
    // bash discard pending input of the persistent shell (its next command would be lost and the
    // shell would die on the remains), so a command that does not parse is never eval'ed.
    // printf reassembles the sentinel from two words, so the input itself never contains it.
    const QByteArray quoted = ansiCQuote(command);
    return "if __vivarium_syntax=$(printf '%s' " + quoted + " | bash -n 2>&1); then { eval " + quoted
           + "\n} </dev/null 2>&1; else printf '%s\\n' \"$__vivarium_syntax\"; (exit 2); fi; __vivarium_rc=$?; "
             "unset __vivarium_syntax; sync -f /workspace 2>/dev/null; "
             "printf '\\n%s%s:%d\\n' '__VIVARIUM_DONE_' '" + nonce + "__' \"$__vivarium_rc\"; unset __vivarium_rc\n";
}

std::optional<BashDone> parseBashDone(const QByteArray &buffer, const QByteArray &nonce)
{
    const QByteArray marker = '\n' + bashSentinel(nonce);
    const qsizetype at = buffer.indexOf(marker);
    if (at < 0)
        return std::nullopt;
    const qsizetype numStart = at + marker.size();
    const qsizetype nl = buffer.indexOf('\n', numStart);
    if (nl < 0)
        return std::nullopt; // the status line is not complete yet
    BashDone d;
    bool ok = false;
    d.exitCode = buffer.mid(numStart, nl - numStart).toInt(&ok);
    if (!ok)
        d.exitCode = -1;
    d.output = buffer.left(at);
    while (d.output.endsWith('\n'))
        d.output.chop(1);
    return d;
}

bool trimHead(QByteArray &buffer, qint64 limit, qint64 &dropped)
{
    const qint64 keep = limit + 256; // room for the sentinel line
    if (buffer.size() <= keep)
        return false;
    const qint64 cut = buffer.size() - keep;
    buffer.remove(0, cut);
    dropped += cut;
    return true;
}

QString displayOutput(const QByteArray &output, qint64 dropped)
{
    QByteArray out = output;
    if (out.size() > kBashOutputLimit) {
        dropped += out.size() - kBashOutputLimit;
        out = out.right(kBashOutputLimit);
    }
    // Terminal escape sequences mean nothing to the model.
    static const QRegularExpression ansi(QStringLiteral("\\x1b\\[[0-9;?]*[ -/]*[@-~]"));
    QString text = QString::fromUtf8(out);
    text.remove(ansi);
    if (dropped > 0)
        text.prepend(QStringLiteral("[output truncated: the first %1 bytes were dropped; the last %2 KiB follow]\n")
                         .arg(dropped)
                         .arg(kBashOutputLimit / 1024));
    return text;
}

QString htmlToText(const QString &html)
{
    QString s = html;
    static const QRegularExpression blocks(QStringLiteral("<(script|style|noscript|template)\\b[^>]*>.*?</\\1\\s*>"),
                                           QRegularExpression::CaseInsensitiveOption
                                               | QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression comments(QStringLiteral("<!--.*?-->"), QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression breaks(QStringLiteral("<(br|/p|/div|/li|/h[1-6]|/tr|/pre|/blockquote|/section|/article)\\b[^>]*>"),
                                           QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression items(QStringLiteral("<li\\b[^>]*>"), QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression tags(QStringLiteral("<[^>]*>"));
    static const QRegularExpression spaces(QStringLiteral("[ \\t\\r\\f\\v]+"));
    static const QRegularExpression blankLines(QStringLiteral("\\n\\s*\\n\\s*\\n+"));
    s.remove(comments);
    s.remove(blocks);
    s.replace(breaks, QStringLiteral("\n"));
    s.replace(items, QStringLiteral("\n- "));
    s.remove(tags);
    s.replace(QLatin1String("&nbsp;"), QLatin1String(" "));
    s.replace(QLatin1String("&lt;"), QLatin1String("<"));
    s.replace(QLatin1String("&gt;"), QLatin1String(">"));
    s.replace(QLatin1String("&quot;"), QLatin1String("\""));
    s.replace(QLatin1String("&#39;"), QLatin1String("'"));
    s.replace(QLatin1String("&apos;"), QLatin1String("'"));
    s.replace(QLatin1String("&amp;"), QLatin1String("&"));
    s.replace(spaces, QStringLiteral(" "));
    s.replace(blankLines, QStringLiteral("\n\n"));
    return s.trimmed();
}

bool hostAllowed(const QJsonObject &environment, const QString &host, quint16 port)
{
    // The egress proxy's matching (NetworkPolicy): exact names, `name:port`, `*.suffix` for
    // subdomains, IP literals only by an exact address entry. An unknown policy allows nothing.
    const QJsonObject networking =
        environment.value(QStringLiteral("config")).toObject().value(QStringLiteral("networking")).toObject();
    const auto policy = NetworkPolicy::fromNetworkingJson(networking);
    return policy && policy->admits(host, port);
}

} // namespace viv::tools
