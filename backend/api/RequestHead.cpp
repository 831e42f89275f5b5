#include "RequestHead.h"

#include <QHostAddress>
#include <QList>
#include <QRegularExpression>

#include <algorithm>

namespace viv::httphead {

namespace {

// Every value of a header in a raw request head (case-insensitive name), trimmed.
QList<QByteArray> headerValues(const QByteArray &head, QByteArrayView name)
{
    QList<QByteArray> out;
    const QList<QByteArray> lines = head.split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines[i];
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && QByteArrayView(line).first(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            out << line.mid(colon + 1).trimmed();
    }
    return out;
}

bool isTokenChar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

Verdict refusal(int status, QString problem, bool tooLong = false)
{
    Verdict v;
    v.kind = Verdict::Kind::Refuse;
    v.status = status;
    v.reason = status == 505 ? QByteArrayLiteral("HTTP Version Not Supported") : QByteArrayLiteral("Bad Request");
    v.problem = std::move(problem);
    v.tooLong = tooLong;
    return v;
}

QString tooLongMessage()
{
    return QStringLiteral("request head exceeds the limit of %1 bytes").arg(kMaxHeadBytes);
}

} // namespace

int requestLineProblem(QByteArray line, QString *problem)
{
    if (line.endsWith('\r'))
        line.chop(1);
    const QList<QByteArray> parts = line.split(' ');
    if (parts.size() != 3 || parts[0].isEmpty() || !std::all_of(parts[0].begin(), parts[0].end(), isTokenChar)) {
        *problem = QStringLiteral("malformed request line: expected \"METHOD /path HTTP/1.1\"");
        return 400;
    }
    const QByteArray &version = parts[2];
    static const QRegularExpression versionRe(QRegularExpression::anchoredPattern(u"HTTP/[0-9]\\.[0-9]"));
    if (!versionRe.match(QString::fromLatin1(version)).hasMatch()) {
        *problem = QStringLiteral("malformed request line: expected \"METHOD /path HTTP/1.1\"");
        return 400;
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        *problem = QStringLiteral("HTTP version not supported: only HTTP/1.0 and HTTP/1.1 are served");
        return 505;
    }
    if (!parts[1].startsWith('/')) {
        *problem = QStringLiteral("the request target must be a path starting with \"/\" (absolute-form and "
                                  "other forms are not accepted)");
        return 400;
    }
    for (char c : parts[1]) {
        if (uchar(c) <= 0x20 || uchar(c) >= 0x7f) {
            *problem = QStringLiteral("the request target contains a character that must be percent-encoded");
            return 400;
        }
    }
    return 0;
}

bool hostSyntaxOk(const QByteArray &value)
{
    // Anchored at the very end: a pattern ending in `$` also matches before a final line feed.
    static const QRegularExpression re(QRegularExpression::anchoredPattern(
        u"(?:\\[([0-9A-Fa-f:.]+)\\]|([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9.])?))(?::([0-9]{1,5}))?"));
    const auto m = re.match(QString::fromLatin1(value));
    if (!m.hasMatch())
        return false;
    if (m.capturedLength(1) > 0 && QHostAddress(m.captured(1)).protocol() != QAbstractSocket::IPv6Protocol)
        return false;
    return m.capturedLength(3) == 0 || m.captured(3).toInt() <= 65535;
}

Verdict judge(const QByteArray &bytes)
{
    // The request line is judged as soon as it is complete: Qt's parser would drop the
    // connection without an answer on garbage, and would serve any HTTP version.
    const qsizetype skip = bytes.startsWith("\r\n") ? 2 : 0; // one empty line before is tolerated
    if (const qsizetype eol = bytes.indexOf('\n', skip); eol >= 0) {
        QString problem;
        if (const int status = requestLineProblem(bytes.mid(skip, eol - skip), &problem); status != 0)
            return refusal(status, problem);
    }
    qsizetype end = bytes.indexOf("\r\n\r\n");
    qsizetype bodyAt = end < 0 ? -1 : end + 4;
    if (const qsizetype lf = bytes.indexOf("\n\n"); lf >= 0 && (end < 0 || lf < end)) {
        end = lf;
        bodyAt = lf + 2;
    }
    if (end < 0)
        return bytes.size() > kMaxHeadBytes ? refusal(400, tooLongMessage(), true) : Verdict{};
    if (end > kMaxHeadBytes)
        return refusal(400, tooLongMessage(), true);
    const QByteArray head = bytes.left(end);

    // One Host, of proper syntax (which names are allowed is ApiServer's Host check).
    const QList<QByteArray> hosts = headerValues(head, "host");
    if (hosts.size() > 1)
        return refusal(400, QStringLiteral("more than one Host header"));
    if (hosts.size() == 1 && !hostSyntaxOk(hosts.first()))
        return refusal(400, QStringLiteral("malformed Host header: expected host[:port]"));
    const QList<QByteArray> lengths = headerValues(head, "content-length");
    const QList<QByteArray> encodings = headerValues(head, "transfer-encoding");
    if (!lengths.isEmpty() && !encodings.isEmpty())
        return refusal(400, QStringLiteral("Content-Length and Transfer-Encoding cannot both be sent"));
    if (lengths.size() > 1)
        return refusal(400, QStringLiteral("more than one Content-Length header"));
    static const QRegularExpression digits(QRegularExpression::anchoredPattern(u"[0-9]{1,18}"));
    if (lengths.size() == 1 && !digits.match(QString::fromLatin1(lengths.first())).hasMatch())
        return refusal(400, QStringLiteral("Content-Length must be a non-negative decimal integer"));

    Verdict v;
    v.kind = Verdict::Kind::Complete;
    v.bodyAt = bodyAt;
    v.chunked = encodings.value(0).toLower().contains("chunked");
    const QList<QByteArray> expects = headerValues(head, "expect");
    v.expectsContinue = expects.value(0).toLower().contains("100-continue");
    if (lengths.size() == 1)
        v.contentLength = lengths.first().toLongLong();
    return v;
}

} // namespace viv::httphead
