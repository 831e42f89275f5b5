#include "ProxyRequest.h"

#include "NetworkPolicy.h"

#include <algorithm>

namespace viv::proxyrequest {

namespace {

bool isHopByHop(const QByteArray &name)
{
    static const QByteArrayList hop{"connection", "proxy-connection", "keep-alive", "proxy-authorization",
                                    "proxy-authenticate", "te", "trailer", "upgrade"};
    return hop.contains(name);
}

bool isTokenChar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isVisible(char c)
{
    return uchar(c) > 0x20 && uchar(c) < 0x7f;
}

Request refusal(int status, QString problem)
{
    Request r;
    r.kind = Request::Kind::Refuse;
    r.status = status;
    r.problem = std::move(problem);
    return r;
}

} // namespace

Request parse(const QByteArray &buffer)
{
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0) {
        if (buffer.size() > kMaxHead)
            return refusal(431, QStringLiteral("the request head is larger than 64 KiB"));
        return {};
    }
    if (end > kMaxHead)
        return refusal(431, QStringLiteral("the request head is larger than 64 KiB"));
    const QByteArray head = buffer.left(end);
    QByteArrayList lines = head.split('\n');
    for (QByteArray &l : lines)
        if (l.endsWith('\r'))
            l.chop(1);
    const QByteArrayList requestLine = lines.takeFirst().split(' ');
    if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1."))
        return refusal(400, QStringLiteral("malformed request line"));

    Request r;
    r.headBytes = end + 4;
    r.method = requestLine.at(0);
    const QByteArray &target = requestLine.at(1); // requestLine outlives it
    // What reaches the policy check, the log, DNS and the upstream request line: visible ASCII
    // only (a NUL, CR or other control byte in a host would be logged and looked up as is).
    if (r.method.isEmpty() || !std::all_of(r.method.begin(), r.method.end(), isTokenChar))
        return refusal(400, QStringLiteral("malformed request line: the method must be a token"));
    if (target.isEmpty() || !std::all_of(target.begin(), target.end(), isVisible))
        return refusal(400, QStringLiteral("malformed request line: the target contains a byte that must be "
                                           "percent-encoded"));

    if (r.method == "CONNECT") {
        QString host;
        int port = 0;
        if (!NetworkPolicy::splitHostPort(QString::fromLatin1(target), &host, &port) || port == 0 || host.isEmpty())
            return refusal(400, QStringLiteral("CONNECT needs host:port"));
        r.kind = Request::Kind::Tunnel;
        r.host = NetworkPolicy::normalizeHost(host);
        r.port = quint16(port);
        if (r.host.isEmpty()) // "." and the like normalise to nothing
            return refusal(400, QStringLiteral("CONNECT needs host:port"));
        return r;
    }

    const QByteArray lower = target.toLower();
    if (lower.startsWith("https://"))
        return refusal(400, QStringLiteral("HTTPS goes through CONNECT (set HTTPS_PROXY); absolute https:// "
                                           "requests are not proxied"));
    if (!lower.startsWith("http://"))
        return refusal(400, QStringLiteral("this is a forward proxy: the request target must be an absolute "
                                           "http:// URL (set HTTP_PROXY)"));
    const QByteArray rest = target.mid(7);
    qsizetype pathAt = rest.size();
    for (char c : {'/', '?', '#'}) {
        const qsizetype i = rest.indexOf(c);
        if (i >= 0 && i < pathAt)
            pathAt = i;
    }
    r.authority = rest.left(pathAt);
    r.path = rest.mid(pathAt);
    if (const qsizetype hash = r.path.indexOf('#'); hash >= 0)
        r.path.truncate(hash);
    if (r.path.isEmpty() || r.path.startsWith('?'))
        r.path.prepend('/');
    if (r.authority.contains('@'))
        return refusal(400, QStringLiteral("user information in the request URL is not supported"));
    QString host;
    int port = 0;
    if (!NetworkPolicy::splitHostPort(QString::fromLatin1(r.authority), &host, &port) || host.isEmpty())
        return refusal(400, QStringLiteral("malformed host in the request URL"));
    r.kind = Request::Kind::Forward;
    r.host = NetworkPolicy::normalizeHost(host);
    r.port = quint16(port ? port : 80);
    if (r.host.isEmpty()) // "." and the like normalise to nothing
        return refusal(400, QStringLiteral("malformed host in the request URL"));

    for (const QByteArray &line : std::as_const(lines)) {
        const qsizetype colon = line.indexOf(':');
        // A CR, NUL or other control byte inside a line would be forwarded upstream, where
        // another parser may split the request on it.
        const bool controls = std::any_of(line.begin(), line.end(), [](char c) {
            return (uchar(c) < 0x20 && c != '\t') || uchar(c) == 0x7f;
        });
        if (colon <= 0 || controls) {
            r.headerProblem = QStringLiteral("malformed header line");
            r.headers.clear();
            break;
        }
        Header h{line.left(colon), line.left(colon).trimmed().toLower(), line.mid(colon + 1)};
        if (isHopByHop(h.lower))
            continue;
        if (h.lower == "host")
            r.haveHost = true;
        if (h.lower == "content-length")
            r.contentLength = h.value.trimmed().toLongLong();
        if (h.lower == "transfer-encoding" && h.value.toLower().contains("chunked"))
            r.chunked = true;
        r.headers << h;
    }
    return r;
}

} // namespace viv::proxyrequest
